"""workbook.pyramid: the per-test records its plugin writes, summed into one line per level."""

from workbook.pyramid import Level, summarise

RECORDS = [
    {"id": "a", "level": "unit", "seconds": 0.01, "failed": False},
    {"id": "b", "level": "unit", "seconds": 0.03, "failed": True},
    {"id": "c", "level": "api", "seconds": 0.5, "failed": False},
]


def test_each_level_counts_its_tests_times_and_failures():
    unit, api, e2e = summarise(RECORDS, ("unit", "api", "e2e"))
    assert (unit.name, unit.tests, round(unit.seconds, 3), unit.failed) == ("unit", 2, 0.04, 1)
    assert (api.tests, api.seconds, api.failed) == (1, 0.5, 0)
    assert e2e == Level("e2e", tests=0, seconds=0, failed=0)


def test_a_level_without_tests_takes_no_time_per_test():
    assert Level("e2e", tests=0, seconds=0.0).seconds_per_test == 0.0
    assert Level("unit", tests=4, seconds=2.0).seconds_per_test == 0.5

"""How `make test` shares the tests between its worker processes (pytest-xdist).

xdist's `--dist loadfile` hands out whole files, the files with the most tests
first. Two things made that slow: a shared test file parametrised over every stage
(tests/test_api_schema.py: a stage's fuzzing takes up to half a minute) ran all its
stages on one worker, one after another; and a file of few, slow tests (a real
Celery worker killed mid-run) started last and finished long after the other worker
ran out of work.

So a unit of work is a file, or, for a shared test file (tests/test_*.py), the file's
tests of one stage, as their parameter id names it (`test_x[07]`, `test_x[07-pyjwt]`):
those share no fixture wider than a test. The units then start in the order of how
long each took in the last run, the longest first, as the plugin recorded them in
pytest's cache (.pytest_cache): a unit never timed starts before all of them, in the
order pytest collected it. Every worker collects the same tests and reads the same
cache, so every worker orders them alike, as xdist requires.
"""

from __future__ import annotations

import re
from collections import defaultdict

from xdist.scheduler import LoadScopeScheduling

CACHE_KEY = "workbook/unit-seconds"
_STAGE_PARAMETER = re.compile(r"\[(?:[^\]]*-)?(\d\d)(?:-[^\]]*)?\]$")


def unit_of(node_id: str) -> str:
    """The unit of work a test belongs to: its file, and its stage for a shared test file."""
    file = node_id.split("::", 1)[0]
    stage = _STAGE_PARAMETER.search(node_id)
    if stage is None or file.count("/") != 1 or not file.startswith("tests/test_"):
        return file
    return f"{file}::{stage.group(1)}"


class StageUnitScheduling(LoadScopeScheduling):
    """xdist's loadfile scheduling, its units split by stage as `unit_of` says, in the order collected."""

    def __init__(self, config, log=None) -> None:
        super().__init__(config, log)
        config.option.loadscopereorder = False  # the workers ordered them already: longest_first

    def _split_scope(self, nodeid: str) -> str:
        return unit_of(nodeid)


class UnitTimer:
    """Adds up the seconds each unit's tests took (setup, call and teardown) as the workers
    report them, and keeps them in pytest's cache for the next run's `longest_first`."""

    def __init__(self, cache) -> None:
        self.cache = cache
        self.seconds: defaultdict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report) -> None:
        self.seconds[unit_of(report.nodeid)] += report.duration

    def pytest_sessionfinish(self) -> None:
        # Units that did not run this time (another --stages, say) keep their last time.
        self.cache.set(CACHE_KEY, {**self.cache.get(CACHE_KEY, {}), **self.seconds})


def longest_first(items: list, seconds: dict[str, float]) -> list:
    """`items` with each unit's tests kept together and in their order, the units never timed
    first, then the others by the `seconds` they took, the longest first."""
    units: dict[str, list] = {}
    for item in items:
        units.setdefault(unit_of(item.nodeid), []).append(item)
    never_timed = float("inf")
    ordered = sorted(units, key=lambda unit: -seconds.get(unit, never_timed))  # sorted() is stable
    return [item for unit in ordered for item in units[unit]]

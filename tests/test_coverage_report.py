"""Branch coverage of a stage (workbook/coverage_report.py): which tests are the stage's, and what
the report says of the modules they run. The full measurement against the floor is `make coverage
LESSON=09`, its own step in .ci/run: it runs every test of the stage, too long for `make test`."""

import pytest

from workbook import coverage_report
from workbook.stages import get_stage, runs_stage

STAGE = get_stage("09")


@pytest.mark.parametrize(
    "node_id",
    [
        "tests/s09_testing/test_fixtures.py::test_x",
        "tests/test_health.py::test_health_names_the_stage[09]",
        "tests/test_token_claims.py::test_an_expired_token_is_refused[09-pyjwt]",
        "tests/test_token_claims.py::test_x[pyjwt-09]",
        "notebooks/09_testing.ipynb::Cell 3",
    ],
)
def test_the_stages_own_tests_and_its_parameter_ids_are_selected(node_id):
    assert runs_stage(node_id, STAGE)


@pytest.mark.parametrize(
    "node_id",
    [
        "tests/s08_scaling/test_pool.py::test_x",
        "tests/test_health.py::test_health_names_the_stage[08]",
        "tests/test_token_claims.py::test_x[109]",
        "tests/test_token_claims.py::test_x[a-090]",
        "notebooks/08_scaling.ipynb::Cell 3",
        "tests/test_pyramid.py::test_x",
    ],
)
def test_other_stages_tests_are_left_out(node_id):
    assert not runs_stage(node_id, STAGE)


READS = "tests/s09_testing/test_product_reads.py"
NOT_FOUND = "product is None"  # the branch of read_product that answers 404


def branch_of(module, text: str) -> tuple[int, int]:
    """The branch that leaves the line holding `text` for the line after it."""
    lines = (STAGE.directory / module.module).read_text(encoding="utf-8").splitlines()
    number = next(n for n, line in enumerate(lines, start=1) if text in line)
    return (number, number + 1)


def test_a_branch_no_test_takes_is_reported_and_taken_once_a_test_needs_it():
    known_only = coverage_report.measure(STAGE, [f"{READS}::test_a_known_sku_answers_the_product"])
    cache = {module.module: module for module in known_only.modules}["product_cache.py"]
    assert known_only.passed and known_only.tests == 1
    assert branch_of(cache, NOT_FOUND) in cache.branches_not_taken, "only known SKUs were read: no 404"
    assert 0 < known_only.percent < 100 and 0 < known_only.branch_percent < 100
    assert "load/locustfile.py" not in {module.module for module in known_only.modules}, "Locust's, not the app's"

    both = coverage_report.measure(STAGE, [READS])
    cache_after = {module.module: module for module in both.modules}["product_cache.py"]
    assert branch_of(cache_after, NOT_FOUND) not in cache_after.branches_not_taken, "the 404 test takes it"
    assert cache_after.missed_branches < cache.missed_branches

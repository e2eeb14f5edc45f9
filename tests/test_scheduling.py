"""workbook/scheduling.py: which tests `make test` keeps together on one worker, and in what order."""

import re
from dataclasses import dataclass

import pytest

from workbook.scheduling import longest_first, unit_of
from workbook.stages import ROOT


@pytest.mark.parametrize(
    ("node_id", "unit"),
    [
        ("tests/test_api_schema.py::test_no_input_breaks_the_stage[05]", "tests/test_api_schema.py::05"),
        ("tests/test_token_claims.py::test_x[07-pyjwt]", "tests/test_token_claims.py::07"),
        ("tests/test_token_claims.py::test_x[pyjwt-07]", "tests/test_token_claims.py::07"),
        ("tests/test_workbook.py::test_stripping_a_solution", "tests/test_workbook.py"),
        # A stage's folder shares fixtures across a module (a real worker): the file stays whole.
        ("tests/s04_celery/test_worker.py::test_x[07]", "tests/s04_celery/test_worker.py"),
        ("notebooks/09_testing.ipynb::Cell 3", "notebooks/09_testing.ipynb"),
        ("tests/test_token_claims.py::test_x[107]", "tests/test_token_claims.py"),
    ],
)
def test_a_shared_file_is_split_by_stage_and_nothing_else_is(node_id, unit):
    assert unit_of(node_id) == unit


@dataclass
class Item:
    nodeid: str


def test_units_never_timed_come_first_then_the_longest_each_kept_together_in_order():
    items = [Item(node_id) for node_id in ("a.py::1", "b.py::1", "a.py::2", "c.py::1", "b.py::2", "d.py::1")]
    ordered = longest_first(items, {"a.py": 5.0, "b.py": 30.0, "d.py": 1.0})
    assert [item.nodeid for item in ordered] == ["c.py::1", "b.py::1", "b.py::2", "a.py::1", "a.py::2", "d.py::1"]


def test_the_shared_test_files_hold_no_fixture_wider_than_one_test():
    # Their tests of different stages run on different workers: a module-wide fixture would be made twice.
    wider = re.compile(r"scope\s*=\s*[\"'](module|package|session|class)")
    shared = sorted((ROOT / "tests").glob("*.py"))
    assert shared and [path.name for path in shared if wider.search(path.read_text(encoding="utf-8"))] == []

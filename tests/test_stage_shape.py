"""The shape every stage keeps (CONTRIBUTING.md, "The shape of a stage"): it grows by adding files."""

import importlib

import pytest

from workbook.stages import load_stages

STAGES = load_stages()
LAB_STAGE = "05"  # the stage whose /lab routes measure what blocks the event loop


def by_number(stage):
    return stage.number


@pytest.mark.parametrize("stage", STAGES, ids=by_number)
def test_main_is_a_table_of_contents(stage):
    lines = (stage.directory / "main.py").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 100, f"{stage.package}/main.py has {len(lines)} lines: move what it holds into modules"


@pytest.mark.parametrize("stage", STAGES, ids=by_number)
def test_no_module_of_the_stage_outgrows_one_sitting(stage):
    long = {
        path.relative_to(stage.directory).as_posix(): count
        for path in stage.directory.rglob("*.py")
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > 200
    }
    assert long == {}, f"split these by what they hold: {long}"


@pytest.mark.parametrize("stage", STAGES, ids=by_number)
def test_the_lab_lives_only_in_the_stage_that_teaches_it(stage):
    app = importlib.import_module(f"lessons.{stage.package}.main").app
    lab_paths = [path for path in app.openapi()["paths"] if path.startswith("/lab/")]
    has_lab_module = (stage.directory / "lab.py").is_file()
    if stage.number == LAB_STAGE:
        assert has_lab_module and lab_paths
    else:
        assert not has_lab_module and lab_paths == [], f"stage {stage.number} serves the lab: {lab_paths}"

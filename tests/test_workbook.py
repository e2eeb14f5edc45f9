"""The workbook's own promises: the index, the exercises, the stage copies, the lock."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx2
import nbformat
import pytest
import yaml
from fastapi import FastAPI

from workbook import checking, drift, lockfile
from workbook.exercises import BEGIN, END, render_stub, strip_solution
from workbook.serving import running
from workbook.stages import ROOT, load_stages, previous_stage

STAGES = load_stages()
EXERCISES = [exercise for stage in STAGES for exercise in stage.exercises]


def by_number(stage):
    return stage.number


def by_label(exercise):
    return exercise.label


def test_list_json_describes_every_stage():
    listed = json.loads(
        subprocess.run(
            [sys.executable, "-m", "workbook", "list", "--json"], capture_output=True, check=True, cwd=ROOT
        ).stdout
    )
    assert [entry["number"] for entry in listed] == [f"{n:02d}" for n in range(len(listed))]
    for entry in listed:
        assert {"number", "title", "app", "notebook", "exercises"} <= entry.keys()
        assert (ROOT / entry["notebook"]).is_file()
        assert len(entry["exercises"]) >= 2, f"stage {entry['number']} needs at least two exercises"


@pytest.mark.parametrize("stage", STAGES, ids=by_number)
def test_each_app_import_string_names_a_fastapi_app(stage):
    module, _, name = stage.app.partition(":")
    assert isinstance(getattr(importlib.import_module(module), name), FastAPI)


@pytest.mark.parametrize("stage", STAGES, ids=by_number)
def test_each_stage_serves_its_docs_over_http_with_uvicorn(stage):
    with running(stage.app) as url:
        assert httpx2.get(f"{url}/health").json() == {"status": "ok", "stage": stage.number}
        assert httpx2.get(f"{url}/docs").status_code == 200
        assert httpx2.get(f"{url}/openapi.json").json()["info"]["version"] == f"stage {stage.number}"


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_label)
def test_each_exercise_has_a_stub_a_solution_tests_and_hints(exercise):
    solution = exercise.solution_file.read_text(encoding="utf-8")
    assert BEGIN in solution and END in solution, f"{exercise.solution_file} marks no solution"
    assert exercise.test_file.is_file()
    assert exercise.hints


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_label)
def test_each_lesson_file_is_the_stub_rendered_from_its_solution(exercise):
    if exercise.lesson_file.read_text(encoding="utf-8") == render_stub(exercise):
        return
    if not os.environ.get("CI"):
        pytest.skip(f"{exercise.lesson_file.relative_to(ROOT)} is not the stub: your work? (CI insists on it)")
    pytest.fail(
        f"{exercise.lesson_file.relative_to(ROOT)} is not the stub; run `python -m workbook reset "
        f"{exercise.stage_number} {exercise.id}` after changing its solution"
    )


def test_every_stub_fails_every_one_of_its_tests():
    results = checking.run_exercises(EXERCISES, source="stubs")
    for result in results:
        assert result.failed, f"{result.exercise.label}: its tests found nothing to fail on"
        assert not result.passed, f"{result.exercise.label}: these pass against the bare stub: {result.passed}"


def test_every_solution_passes_in_a_fresh_process():
    results = checking.run_exercises(EXERCISES, source="solutions")
    assert [(r.exercise.label, r.failed) for r in results if not r.ok] == []


def test_stripping_a_solution():
    source = f"import os\n{BEGIN}\nimport re\n{END}\n\ndef f():\n    {BEGIN}\n    return 1\n    {END}\n"
    assert strip_solution(source, "99/x") == (
        'import os\n\ndef f():\n    raise NotImplementedError("exercise 99/x: write this part")\n'
    )
    with pytest.raises(ValueError, match="never closed"):
        strip_solution(f"{BEGIN}\n", "99/x")


@pytest.mark.parametrize("stage", STAGES[1:], ids=by_number)
def test_stage_copies_cannot_drift(stage):
    assert drift.problems(previous_stage(stage), stage) == []


def test_a_fix_in_a_carried_file_that_is_not_ported_is_reported(tmp_path):
    stage = STAGES[1]
    previous = previous_stage(stage)
    edited = stage.directory / "catalogue.py"
    original = edited.read_bytes()
    try:
        edited.write_bytes(original + b"\n# a fix made here only\n")
        assert any("catalogue.py is changed" in problem for problem in drift.problems(previous, stage))
    finally:
        edited.write_bytes(original)


def test_environment_yml_pins_what_the_lock_pins():
    pip_section = yaml.safe_load(lockfile.ENVIRONMENT.read_text())["dependencies"][-1]["pip"]
    assert pip_section == [str(requirement) for requirement in lockfile.pins()] + ["-e ."]


def test_no_lesson_module_shadows_an_installed_package():
    ours = {path.stem for path in (ROOT / "lessons").rglob("*.py")} - {"__init__", "main"}
    shadowing = []
    for name in sorted(ours):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin and ROOT not in Path(spec.origin).parents:
            shadowing.append(name)
    assert shadowing == [], "these lesson modules hide the packages of the same name"


@pytest.mark.parametrize("stage", STAGES, ids=by_number)
def test_each_notebook_is_stored_run_and_quiet(stage):
    notebook = nbformat.read(ROOT / stage.notebook, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code), "store the notebook with its outputs: make notebooks"
    for cell in code:
        for output in cell.outputs:
            text = output.get("text", "") if output.output_type == "stream" else ""
            assert output.get("name") != "stderr" and "Warning" not in text, f"noise in: {cell.source[:60]}"
            assert output.output_type != "error", f"a cell failed: {cell.source[:60]}"

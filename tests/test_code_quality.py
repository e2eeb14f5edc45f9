"""Lint, formatting and types are checked with the tests, so `make test` fails on them too.

ruff reads its rules from pyproject.toml and checks the notebooks' code cells as
well; mypy checks the tooling, every stage and every solution (its settings are in
pyproject.toml too). Each target is a test of its own, so a failure says where to look.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from workbook.exercises import render_stub
from workbook.stages import ROOT, load_stages

RUFF_TARGETS = ["lessons", "solutions", "tests", "workbook", "notebooks"]
EXERCISES = [exercise for stage in load_stages() for exercise in stage.exercises]


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True)


@pytest.mark.parametrize("target", RUFF_TARGETS)
def test_ruff_finds_nothing_to_fix(target):
    checked = run("ruff", "check", "--output-format=concise", target)
    assert checked.returncode == 0, f"ruff check {target}:\n{checked.stdout}{checked.stderr}"


@pytest.mark.parametrize("target", RUFF_TARGETS)
def test_ruff_formatting_is_applied(target):
    checked = run("ruff", "format", "--check", target)
    assert checked.returncode == 0, f"run `ruff format {target}`:\n{checked.stdout}{checked.stderr}"


def test_mypy_finds_no_type_errors_in_the_tooling():
    checked = run("mypy", "workbook")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def read_instead(files: dict[Path, Path]) -> list[str]:
    """mypy options that type-check each key's module with the text of its value.

    The module keeps its name and package, so a solution's relative imports
    (`from ..models import User`) resolve in its stage, as they do when it runs.
    """
    return [option for lesson, text in files.items() for option in ("--shadow-file", str(lesson), str(text))]


def test_mypy_finds_no_type_errors_in_the_lessons(tmp_path):
    # Every stage with its exercises as shipped: a learner's work in progress is
    # for the exercise's own tests to judge, so the stubs are checked instead.
    stubs = {}
    for exercise in EXERCISES:
        stubs[exercise.lesson_file] = tmp_path / f"s{exercise.stage_number}_{exercise.id}.py"
        stubs[exercise.lesson_file].write_text(render_stub(exercise), encoding="utf-8")
    checked = run("mypy", "lessons", *read_instead(stubs))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_mypy_finds_no_type_errors_in_the_solutions():
    checked = run("mypy", "lessons", *read_instead({e.lesson_file: e.solution_file for e in EXERCISES}))
    # mypy names the module's own file; the report names the solution that was read.
    report = checked.stdout
    for exercise in EXERCISES:
        report = report.replace(
            str(exercise.lesson_file.relative_to(ROOT)), str(exercise.solution_file.relative_to(ROOT))
        )
    assert checked.returncode == 0, report + checked.stderr

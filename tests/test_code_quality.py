"""Lint, formatting and types are checked with the tests, so `make test` fails on them too.

ruff reads its rules from pyproject.toml and checks the notebooks' code cells as
well; mypy checks the tooling (its settings are in pyproject.toml too). Each
target is a test of its own, so a failure says where to look.
"""

import subprocess
import sys

import pytest

from workbook.stages import ROOT

RUFF_TARGETS = ["lessons", "solutions", "tests", "workbook", "notebooks"]


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

"""Exercise stubs and where exercise code is imported from.

Each solution file marks the lines a learner has to write:

    # BEGIN SOLUTION
    ...
    # END SOLUTION

The stub a learner starts from is the solution with each marked block taken out:
an indented block becomes `raise NotImplementedError(...)`, a block at module level
(an import only the answer needs, a helper) disappears. Because stubs are derived
from solutions, `reset` needs no copy of the original and a stub cannot drift
from its solution: a test compares every lesson file with the stub rendered now.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from pathlib import Path

from workbook.stages import Exercise, load_stages

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"

# Where the exercise tests import exercise code from.
SOURCES = ("lessons", "solutions", "stubs")


def render_stub(exercise: Exercise) -> str:
    """The pristine stub for `exercise`, rendered from its solution file."""
    return strip_solution(exercise.solution_file.read_text(encoding="utf-8"), exercise.label)


def strip_solution(source: str, label: str) -> str:
    lines: list[str] = []
    inside = False
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ValueError(f"{label}: line {number} opens a solution block inside another")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            if indent:
                lines.append(f'{indent}raise NotImplementedError("exercise {label}: write this part")\n')
        elif marker == END:
            if not inside:
                raise ValueError(f"{label}: line {number} closes a solution block that was never opened")
            inside = False
        elif not inside:
            lines.append(line)
    if inside:
        raise ValueError(f"{label}: a solution block is never closed")
    return "".join(lines)


def is_pristine(exercise: Exercise) -> bool:
    """True while the learner's file is still exactly the stub."""
    lesson = exercise.lesson_file
    return lesson.exists() and lesson.read_text(encoding="utf-8") == render_stub(exercise)


class ExerciseRedirect(importlib.abc.MetaPathFinder):
    """Imports chosen exercise modules from other files.

    The stage apps import exercises by their lesson names (for example
    `lessons.s01_dependency_injection.exercises.pagination`). Placed first on
    `sys.meta_path`, this finder answers for exactly those names with another
    file, so the same tests can run against the learner's file, the solution or
    the pristine stub without touching the working tree.
    """

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files

    def find_spec(self, fullname, path=None, target=None):
        file = self.files.get(fullname)
        return importlib.util.spec_from_file_location(fullname, file) if file else None


def redirect_exercises(source: str, scratch: Path) -> ExerciseRedirect | None:
    """Make exercise modules import from `source`; `scratch` receives rendered stubs."""
    if source not in SOURCES:
        raise ValueError(f"exercise source must be one of {SOURCES}, not {source!r}")
    if source == "lessons":
        return None
    files: dict[str, Path] = {}
    for stage in load_stages():
        for exercise in stage.exercises:
            if source == "solutions":
                files[exercise.module] = exercise.solution_file
            else:
                stub = scratch / stage.package / f"{exercise.id}.py"
                stub.parent.mkdir(parents=True, exist_ok=True)
                stub.write_text(render_stub(exercise), encoding="utf-8")
                files[exercise.module] = stub
    finder = ExerciseRedirect(files)
    sys.meta_path.insert(0, finder)
    return finder

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
import json
import os
import sys
import traceback
from dataclasses import dataclass
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


@dataclass(frozen=True)
class BrokenFile:
    """A learner's exercise file that could not be imported, and why."""

    module: str
    file: Path
    line: int | None
    error: str  # "SyntaxError: invalid syntax", say

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.error}"


class ExerciseRedirect(importlib.abc.MetaPathFinder):
    """Imports chosen exercise modules from other files.

    The stage apps import exercises by their lesson names (for example
    `lessons.s01_dependency_injection.exercises.pagination`). Placed first on
    `sys.meta_path`, this finder answers for exactly those names with another
    file, so the same tests can run against the learner's file, the solution or
    the pristine stub without touching the working tree.
    """

    def __init__(self, files: dict[str, Path], fallbacks: dict[str, Path] | None = None) -> None:
        self.files = files
        # For the learner's files: the stub to run instead when their file does not import.
        self.fallbacks = fallbacks or {}
        self.broken: list[BrokenFile] = []

    def find_spec(self, fullname, path=None, target=None):
        file = self.files.get(fullname)
        if file is None:
            return None
        fallback = self.fallbacks.get(fullname)
        loader = ForgivingLoader(file, fallback, self.broken) if fallback else None
        return importlib.util.spec_from_file_location(fullname, file, loader=loader)


class ForgivingLoader(importlib.abc.Loader):
    """Runs a learner's file; if that fails, records why and runs its stub instead.

    Every stage app imports all of its exercise modules, so one syntax error would
    otherwise stop the app, and with it the tests of every other exercise.
    """

    def __init__(self, file: Path, stub: Path, broken: list[BrokenFile]) -> None:
        self.file, self.stub, self.broken = file, stub, broken

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module) -> None:
        try:
            exec(compile(self.file.read_bytes(), str(self.file), "exec"), vars(module))
        except Exception as error:
            self.broken.append(_describe(module.__name__, self.file, error))
            # Forget whatever the failed run defined, then define the stub's names.
            for name in [name for name in vars(module) if not name.startswith("__")]:
                delattr(module, name)
            module.__file__ = str(self.stub)
            exec(compile(self.stub.read_bytes(), str(self.stub), "exec"), vars(module))


def _describe(module: str, file: Path, error: Exception) -> BrokenFile:
    if isinstance(error, SyntaxError) and error.filename == str(file):
        return BrokenFile(module, file, error.lineno, f"{type(error).__name__}: {error.msg}")
    # Otherwise the line of the learner's file that was running when it failed
    # (the error itself may come from a module it imported).
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__) if frame.filename == str(file)]
    return BrokenFile(module, file, lines[-1] if lines else None, f"{type(error).__name__}: {error}")


def redirect_exercises(source: str, scratch: Path) -> ExerciseRedirect:
    """Make exercise modules import from `source`; `scratch` receives rendered stubs.

    `source` is one of SOURCES, or a folder laid out like solutions/ holding other
    answers (`<folder>/s09_testing/idempotency_tests.py`); an exercise with no file
    there comes from its solution. For the learner's own files ("lessons") a file
    that fails to import is replaced by its stub and listed in the finder's `broken`,
    so that the stage's other exercises can still be checked.
    """
    if source not in SOURCES and not Path(source).is_dir():
        raise ValueError(f"exercise source must be one of {SOURCES} or a folder, not {source!r}")
    files: dict[str, Path] = {}
    stubs: dict[str, Path] = {}
    for stage in load_stages():
        for exercise in stage.exercises:
            stubs[exercise.module] = scratch / stage.package / f"{exercise.id}.py"
            other = Path(source) / stage.package / f"{exercise.id}.py"
            files[exercise.module] = {
                "lessons": exercise.lesson_file,
                "solutions": exercise.solution_file,
                "stubs": stubs[exercise.module],
            }.get(source, other if other.is_file() else exercise.solution_file)
            if source != "solutions":
                stubs[exercise.module].parent.mkdir(parents=True, exist_ok=True)
                stubs[exercise.module].write_text(render_stub(exercise), encoding="utf-8")
    finder = ExerciseRedirect(files, fallbacks=stubs if source == "lessons" else None)
    sys.meta_path.insert(0, finder)
    return finder


# Run by each child Python whose PYTHONPATH starts with the folder `child_process_env` writes
# it to: Python imports `sitecustomize` at start-up, before any code of the child's own.
_CHILD_REDIRECT = """\
import json, os, sys
from pathlib import Path

from workbook.exercises import ExerciseRedirect

_files = json.loads(os.environ["WORKBOOK_EXERCISE_FILES"])
sys.meta_path.insert(0, ExerciseRedirect({module: Path(file) for module, file in _files.items()}))
"""


def child_process_env(scratch: Path) -> dict[str, str]:
    """The environment that makes a child Python process (uvicorn, a Celery worker) import the
    exercise modules from the files this process imports them from: the learner's, the solution
    or the stub, as `--exercise-source` chose. Without it a child would always run the learner's
    files, whatever the tests were asked to check. `scratch` receives the start-up hook."""
    redirect = next((finder for finder in sys.meta_path if isinstance(finder, ExerciseRedirect)), None)
    if redirect is None:  # nothing redirected here: a child imports the same files by itself
        return {}
    (scratch / "sitecustomize.py").write_text(_CHILD_REDIRECT, encoding="utf-8")
    paths = [str(scratch), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {
        "PYTHONPATH": os.pathsep.join(paths),
        "WORKBOOK_EXERCISE_FILES": json.dumps({module: str(file) for module, file in redirect.files.items()}),
    }

"""The stage index.

Every stage describes itself in `lessons/<package>/stage.toml`; this module reads
those files and is the only place that knows where a stage's app, notebook,
exercises, solutions and tests live. Tools and tests ask it instead of keeping
lists of their own.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    """A planted bug: one textual change to one file of the stage (see workbook.mutants)."""

    id: str
    describes: str  # what goes wrong with it, in the sentence the checker prints when it slips through
    label: str  # "09/idempotency_tests/retry_reaches_provider": what --mutant takes
    file: Path  # the stage's file it changes
    module: str  # the import name of that file
    replace: str  # text that occurs exactly once in the file...
    with_: str  # ...and what it becomes


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    hints: tuple[str, ...]
    stage_number: str
    module: str  # the import name learners' code is imported under
    lesson_file: Path  # what the learner edits
    solution_file: Path  # the worked answer, with the solution marked
    test_file: Path
    # "code": the learner writes code, the project's tests check it. "tests": the learner writes
    # tests, which must pass on the stage and fail on each of its mutants (planted bugs).
    kind: str = "code"
    mutants: tuple[Mutant, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.stage_number}/{self.id}"


@dataclass(frozen=True)
class Change:
    """One file a stage added, changed or removed since the previous stage."""

    path: str
    why: str
    # For a changed file: a fingerprint of the previous stage's copy it was derived
    # from, so a later fix there cannot go unnoticed (see workbook.drift).
    base: str | None = None


@dataclass(frozen=True)
class Stage:
    number: str
    title: str
    package: str
    directory: Path
    app: str
    notebook: str
    summary: str
    exercises: tuple[Exercise, ...]
    changes: dict[str, Change]

    def exercise(self, exercise_id: str) -> Exercise:
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        known = ", ".join(e.id for e in self.exercises)
        raise LookupError(f"stage {self.number} has no exercise {exercise_id!r} (it has: {known})")

    def as_json(self) -> dict:
        return {
            "number": self.number,
            "title": self.title,
            "package": self.package,
            "app": self.app,
            "notebook": self.notebook,
            "summary": self.summary,
            "exercises": [e.id for e in self.exercises],
        }


def load_stages(root: Path = ROOT) -> list[Stage]:
    """All stages, in order, read from their stage.toml files."""
    files = sorted((root / "lessons").glob("s[0-9][0-9]_*/stage.toml"))
    return [_read_stage(path, root) for path in files]


def get_stage(number: str | int, root: Path = ROOT) -> Stage:
    """The stage numbered `number`; accepts 1, "1" or "01"."""
    wanted = f"{int(number):02d}" if str(number).isdigit() else str(number)
    stages = load_stages(root)
    for stage in stages:
        if stage.number == wanted:
            return stage
    known = ", ".join(s.number for s in stages)
    raise LookupError(f"there is no stage {number!r} (stages: {known})")


def runs_stage(node_id: str, stage: Stage) -> bool:
    """Whether the pytest item `node_id` tests `stage`: a test in its folder, a cell of its
    notebook, or a shared test whose parameter id names the stage, alone or among other ids
    (`test_x[09]`, `test_x[09-pyjwt]`). A test that names no stage (the workbook's own
    tooling) runs no stage."""
    if node_id.startswith((f"tests/{stage.package}/", f"{stage.notebook}::")):
        return True
    return re.search(rf"\[(?:[^\]]*-)?{stage.number}(?:-[^\]]*)?\]$", node_id) is not None


def stages_in(wanted: str, root: Path = ROOT) -> list[Stage]:
    """The stages `wanted` names: "00-07" (a range, both ends included), "06,09", or both mixed."""
    numbers: set[str] = set()
    for part in wanted.split(","):
        first, _, last = part.strip().partition("-")
        low, high = get_stage(first, root).number, get_stage(last or first, root).number
        numbers |= {stage.number for stage in load_stages(root) if low <= stage.number <= high}
    return [stage for stage in load_stages(root) if stage.number in numbers]


def previous_stage(stage: Stage, root: Path = ROOT) -> Stage | None:
    earlier = [s for s in load_stages(root) if s.number < stage.number]
    return earlier[-1] if earlier else None


def _read_stage(path: Path, root: Path) -> Stage:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    directory = path.parent
    package = directory.name
    number = data["number"]
    if not package.startswith(f"s{number}_"):
        raise ValueError(f"{path}: number {number!r} does not match the folder name {package!r}")
    exercises = tuple(
        Exercise(
            id=item["id"],
            title=item["title"],
            hints=tuple(item["hints"]),
            stage_number=number,
            module=f"lessons.{package}.exercises.{item['id']}",
            lesson_file=directory / "exercises" / f"{item['id']}.py",
            solution_file=root / "solutions" / package / f"{item['id']}.py",
            test_file=root / "tests" / package / f"test_exercise_{item['id']}.py",
            kind=_kind(item, path),
            mutants=tuple(_mutant(entry, f"{number}/{item['id']}", directory) for entry in item.get("mutants", [])),
        )
        for item in data.get("exercises", [])
    )
    changes = {
        name: Change(path=name, why=entry["why"], base=entry.get("base"))
        for name, entry in data.get("changes", {}).items()
    }
    return Stage(
        number=number,
        title=data["title"],
        package=package,
        directory=directory,
        app=f"lessons.{package}.main:app",
        notebook=f"notebooks/{package.removeprefix('s')}.ipynb",
        summary=data["summary"].strip(),
        exercises=exercises,
        changes=changes,
    )


def _kind(item: dict, path: Path) -> str:
    kind = item.get("kind", "code")
    if kind not in ("code", "tests"):
        raise ValueError(f"{path}: exercise {item['id']!r} has kind {kind!r}; it is either 'code' or 'tests'")
    if (kind == "tests") != bool(item.get("mutants")):
        raise ValueError(f"{path}: exercise {item['id']!r}: an exercise of kind 'tests', and only one, has mutants")
    return kind


def _mutant(entry: dict, exercise_label: str, directory: Path) -> Mutant:
    module = ".".join(["lessons", directory.name, *Path(entry["file"]).with_suffix("").parts])
    return Mutant(
        id=entry["id"],
        describes=entry["describes"],
        label=f"{exercise_label}/{entry['id']}",
        file=directory / entry["file"],
        module=module,
        replace=entry["replace"],
        with_=entry["with"],
    )

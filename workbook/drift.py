"""Keep the stage copies honest.

Stages are self-contained copies (CONTRIBUTING.md says why), so the same file
can live in several stages. Two rules stop a fix from drifting silently:

1. A file that a stage carries from the previous stage must stay byte-identical
   to it, unless the stage declares the change in its stage.toml `[changes]`
   table. Every added, changed or removed file is declared there with a reason,
   which is also what `make diff` prints.
2. A declared change records `base`, a fingerprint of the previous stage's copy
   it was derived from. If that copy is edited later (a bug fix, say), the
   fingerprint no longer matches until someone ports the fix and runs
   `python -m workbook stamp NN`.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from workbook.stages import Stage

# Files that describe the stage rather than being part of the app.
NOT_CARRIED = ("stage.toml", "exercises/")


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def stage_files(stage: Stage) -> dict[str, Path]:
    """The stage's own source files, by path relative to the stage folder."""
    files = {}
    for path in sorted(stage.directory.rglob("*")):
        name = path.relative_to(stage.directory).as_posix()
        if path.is_file() and "__pycache__" not in name and not name.startswith(NOT_CARRIED):
            files[name] = path
    return files


def compare(previous: Stage, stage: Stage) -> dict[str, str]:
    """Each file that differs between the two stages: "added", "changed" or "removed"."""
    before, after = stage_files(previous), stage_files(stage)
    status = {}
    for name in sorted(before.keys() | after.keys()):
        if name not in before:
            status[name] = "added"
        elif name not in after:
            status[name] = "removed"
        elif before[name].read_bytes() != after[name].read_bytes():
            status[name] = "changed"
    return status


def problems(previous: Stage, stage: Stage) -> list[str]:
    """Everything that breaks the two rules above, as sentences."""
    found = []
    actual = compare(previous, stage)
    where = f"lessons/{stage.package}"
    for name, how in actual.items():
        if name not in stage.changes:
            found.append(
                f"{where}/{name} is {how} since stage {previous.number} but stage.toml does not say why. "
                f"If it should match stage {previous.number}, copy that file over; "
                f"otherwise declare it under [changes]."
            )
    for name, change in stage.changes.items():
        if name not in actual:
            found.append(
                f"{where}/stage.toml declares a change to {name}, but it is the same as in stage {previous.number}."
            )
        elif actual[name] == "changed":
            base = fingerprint(previous.directory / name)
            if change.base != base:
                found.append(
                    f"lessons/{previous.package}/{name} was edited after {where}/{name} was derived from it. "
                    f"Port the edit if it applies, then run `python -m workbook stamp {stage.number}`."
                )
    return found


def stamp(previous: Stage, stage: Stage) -> list[str]:
    """Record the current base of every changed file in stage.toml; returns the files stamped."""
    toml = stage.directory / "stage.toml"
    text = toml.read_text(encoding="utf-8")
    stamped = []
    for name, how in compare(previous, stage).items():
        if how != "changed" or name not in stage.changes:
            continue
        base = fingerprint(previous.directory / name)
        # Each change is a one-line inline table: "name" = { why = "...", base = "..." }
        line = re.compile(rf'^("{re.escape(name)}" = \{{.*?)(, base = "[0-9a-f]*")? \}}$', re.MULTILINE)
        text, count = line.subn(rf'\1, base = "{base}" }}', text)
        if count != 1:
            raise ValueError(f"{toml}: write the change to {name} on one line to stamp it")
        stamped.append(name)
    toml.write_text(text, encoding="utf-8")
    return stamped

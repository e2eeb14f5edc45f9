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

`propagate` ports such a fix for you: it copies the edited file into the later
stages that carry it unchanged, and merges it (three ways, with `git merge-file`)
into those that changed it, using the base text the fingerprint names.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from workbook.stages import Stage, load_stages, previous_stage

# Files that describe the stage rather than being part of the app.
NOT_CARRIED = ("stage.toml", "exercises/")


def fingerprint(path: Path) -> str:
    return digest(path.read_bytes())


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:16]


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


def stamp(previous: Stage, stage: Stage, only: str | None = None) -> list[str]:
    """Record the current base of every changed file (or only the one named) in stage.toml; returns those stamped."""
    toml = stage.directory / "stage.toml"
    text = toml.read_text(encoding="utf-8")
    stamped = []
    for name, how in compare(previous, stage).items():
        if how != "changed" or name not in stage.changes or only not in (None, name):
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


class Conflict(Exception):
    """A fix could not be merged into a later stage's copy without a person deciding."""


def propagate(start: Stage, name: str, echo: Callable[[str], None] = print, resolved: bool = False) -> None:
    """Carry the current `name` of stage `start` into every later stage, then stamp what was merged.

    Raises Conflict, leaving git's conflict markers in the stage where it stopped.
    With `resolved`, `start` is such a stage whose conflict was resolved by hand:
    its base is recorded before carrying on.
    """
    root = start.directory.parent.parent
    previous = previous_stage(start, root)
    if not (start.directory / name).is_file():
        raise LookupError(f"lessons/{start.package}/{name} does not exist")
    if resolved:
        if b"<<<<<<<" in (start.directory / name).read_bytes():
            raise Conflict(f"lessons/{start.package}/{name} still holds conflict markers (<<<<<<<)")
        if previous is not None:
            stamp(previous, start, only=name)
    old: bytes | None = None  # the previous stage's copy before the fix, once known
    for stage in [s for s in load_stages(root) if s.number > start.number]:
        before = previous_stage(stage, root)
        assert before is not None  # a later stage always has one
        new = (before.directory / name).read_bytes()
        target = stage.directory / name
        where = f"lessons/{stage.package}/{name}"
        if not target.is_file():
            echo(f"{where}: not in stage {stage.number}, so the later stages are left alone")
            return
        current = target.read_bytes()
        change = stage.changes.get(name)
        if current == new:
            echo(f"{where}: already up to date")
        elif change is None:
            # Carried unchanged: it equals the previous stage's copy as it was, so the fix replaces it whole.
            if old is not None and current != old:
                raise Conflict(f"{where} differs from stage {before.number}'s copy but stage.toml declares no change")
            target.write_bytes(new)
            echo(f"{where}: copied from stage {before.number}")
        elif change.base == fingerprint(before.directory / name):
            echo(f"{where}: already derived from stage {before.number}'s copy as it is now")
        else:
            _merge(target, _base_text(before, name, change.base, old), new, before, stage)
            stamp(before, stage, only=name)
            echo(f"{where}: merged with stage {before.number}'s fix, and stamped")
        old = current


def _merge(target: Path, base: bytes, new: bytes, before: Stage, stage: Stage) -> None:
    """Three-way merge of `before`'s new copy into `target`; raises Conflict when git cannot decide."""
    with tempfile.TemporaryDirectory() as scratch:
        base_file, new_file = Path(scratch) / "base", Path(scratch) / "new"
        base_file.write_bytes(base)
        new_file.write_bytes(new)
        labels = ["-L", f"stage {stage.number}", "-L", "base", "-L", f"stage {before.number}"]
        merged = subprocess.run(["git", "merge-file", "-p", *labels, target, base_file, new_file], capture_output=True)
    if merged.returncode < 0 or merged.returncode > 127:
        raise RuntimeError(f"git merge-file failed: {merged.stderr.decode()}")
    target.write_bytes(merged.stdout)
    if merged.returncode > 0:
        name = target.relative_to(stage.directory).as_posix()  # routes/users.py, not users.py
        where = f"lessons/{stage.package}/{name}"
        raise Conflict(
            f"{where}: stage {before.number}'s fix conflicts with what stage {stage.number} changed. "
            f"The file now holds both versions between <<<<<<< and >>>>>>> lines: keep what stage "
            f"{stage.number} needs, then run `python -m workbook propagate {stage.number} {name} --resolved` "
            f"to record it and carry it on to the later stages."
        )


def _base_text(stage: Stage, name: str, wanted: str | None, replaced: bytes | None) -> bytes:
    """The copy of `name` in `stage` whose fingerprint is `wanted`, the base of the next stage's copy."""
    for text in _earlier_copies(stage, name, replaced):
        if digest(text) == wanted:
            return text
    raise Conflict(
        f"cannot find the copy of lessons/{stage.package}/{name} that stage {int(stage.number) + 1:02d}'s file was "
        f"derived from (fingerprint {wanted}) in git: port the fix by hand, then run `python -m workbook stamp`."
    )


def _earlier_copies(stage: Stage, name: str, replaced: bytes | None) -> Iterator[bytes]:
    """Earlier texts of a stage's file: the one this run just replaced, the one staged
    in git's index, then the one in each commit that touched it, newest first."""
    if replaced is not None:
        yield replaced
    root = stage.directory.parent.parent
    path = (stage.directory / name).relative_to(root).as_posix()
    commits = subprocess.run(["git", "log", "--format=%H", "--", path], cwd=root, capture_output=True, text=True)
    for revision in ["", *commits.stdout.split()]:  # "" is the index
        shown = subprocess.run(["git", "show", f"{revision}:{path}"], cwd=root, capture_output=True)
        if shown.returncode == 0:
            yield shown.stdout

"""Planted bugs, for the exercises whose answer is a test.

An exercise of kind "tests" lists its mutants in stage.toml: each is one textual
change to one file of the stage, with a sentence saying what goes wrong:

    [[exercises.mutants]]
    id = "retry_reaches_provider"
    describes = "a retry with the same key is sent to the provider again ..."
    file = "idempotency.py"
    replace = "nx=True"
    with = "nx=False"

`pytest --mutant=09/idempotency_tests/retry_reaches_provider` runs with that
change made: a finder placed first on `sys.meta_path` answers for the changed
module with its patched text, compiled under the file's own name so that
tracebacks point at the real line. The working tree is never touched.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys

from workbook.stages import Mutant, get_stage


class MutantDoesNotApply(ValueError):
    """The text a mutant replaces is not in its file exactly once: the file changed since it was written."""


def find(label: str) -> Mutant:
    """The mutant labelled "09/idempotency_tests/retry_reaches_provider"."""
    number, exercise_id, mutant_id = label.split("/")
    exercise = get_stage(number).exercise(exercise_id)
    for mutant in exercise.mutants:
        if mutant.id == mutant_id:
            return mutant
    known = ", ".join(m.id for m in exercise.mutants) or "none"
    raise LookupError(f"exercise {exercise.label} has no mutant {mutant_id!r} (it has: {known})")


def patched_source(mutant: Mutant) -> str:
    """The mutant's file with its one change made."""
    source = mutant.file.read_text(encoding="utf-8")
    found = source.count(mutant.replace)
    if found != 1:
        raise MutantDoesNotApply(
            f"planted bug {mutant.label} no longer applies: {mutant.replace!r} occurs {found} times"
            f" in {mutant.file.name} (once is required); update it in stage.toml"
        )
    return source.replace(mutant.replace, mutant.with_)


class MutantFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports the mutant's module from its patched text; every other module as usual."""

    def __init__(self, mutant: Mutant) -> None:
        self.mutant = mutant
        self.source = patched_source(mutant)  # now: a mutant that does not apply stops the run at once

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.mutant.module:
            return None
        return importlib.util.spec_from_file_location(fullname, self.mutant.file, loader=self)

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module) -> None:
        exec(compile(self.source, str(self.mutant.file), "exec"), vars(module))


def plant(mutant: Mutant) -> MutantFinder:
    """From now on, importing the mutant's module gives the patched one."""
    if mutant.module in sys.modules:
        raise RuntimeError(f"{mutant.module} is imported already: plant {mutant.label} before the stage is imported")
    finder = MutantFinder(mutant)
    sys.meta_path.insert(0, finder)
    return finder

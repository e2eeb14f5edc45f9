"""Run exercise tests and report them one exercise at a time.

An exercise of kind "tests" is checked the other way round: the learner's tests
run on the correct app, where they must pass, then once per planted bug
(workbook.mutants), where they must fail (`try_mutants`).

pytest runs in a child process so that each check imports the learner's files
fresh. It writes a JUnit XML report, whose `failure` elements hold the reason a
learner needs, and a list of the learner's files that did not import: those
were replaced by their stub for the run, so one broken file does not stop the
stage's other exercises from being checked.

A learner waits for every check, so it loads only the workbook's own pytest
plugin (those installed for the rest of the suite, hypothesis, schemathesis,
nbval and locust, take seconds to import and no exercise test uses them), and
skips formatting tracebacks nobody reads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from workbook.mutants import patched_source
from workbook.stages import ROOT, Exercise, Mutant

# A reason keeps at most this many lines: the sentence, then pytest's comparison.
REASON_LINES = 4


class PytestDidNotRun(RuntimeError):
    """pytest stopped before running a test: a stage file that is not an exercise does not import, say."""


@dataclass
class Result:
    exercise: Exercise
    passed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (test name, reason)
    broken: str | None = None  # "file:line: error" when the learner's file did not import

    @property
    def ok(self) -> bool:
        return self.broken is None and bool(self.passed) and not self.failed

    @property
    def counted(self) -> str:
        """What passed and failed counts: the project's tests, or the checks made of the learner's tests."""
        return "checks" if self.exercise.kind == "tests" else "tests"


def run_exercises(exercises: list[Exercise], source: str = "lessons", verbose: bool = False) -> list[Result]:
    """Run the tests of `exercises` against `source` ("lessons", "solutions", "stubs" or a folder).

    One pytest runs every exercise's test file on the stages as they are. Then the
    learner's tests of each exercise of kind "tests" that passed there run once per
    planted bug (`try_mutants`). With `verbose`, pytest's own output is shown as it runs.
    """
    for exercise in exercises:
        for mutant in exercise.mutants:
            patched_source(mutant)  # a planted bug that no longer applies is the workbook's error: said first
    results = {_dotted(e.test_file): Result(e) for e in exercises}
    if not results:
        return []
    cases, broken = run_pytest([e.test_file for e in exercises], source, verbose)
    for case in cases:
        result = _owner(case, results)
        if result is not None:
            _record(case, result, on="fails on the correct app: " if result.exercise.kind == "tests" else "")
    _record_broken(broken, results.values())
    try_mutants([result for result in results.values() if result.exercise.kind == "tests"], source)
    return list(results.values())


def run_pytest(test_files: list[Path], source: str, verbose: bool, *options: str) -> tuple[list[ET.Element], list]:
    """Run pytest on `test_files` in a child process: its test cases, and the exercise files that did not import."""
    with tempfile.TemporaryDirectory() as scratch:
        report, errors = Path(scratch) / "report.xml", Path(scratch) / "errors.json"
        command = [
            *(sys.executable, "-m", "pytest", *map(str, test_files), *options),
            f"--exercise-source={source}",
            f"--exercise-errors={errors}",
            f"--junitxml={report}",
            # pytest's own traceback, with source lines from every frame down through
            # FastAPI and Starlette, takes seconds to format and is never shown: the
            # report's message holds the reason. VERBOSE=1 shows pytest's usual output.
            *(["-v"] if verbose else ["-q", "--tb=native"]),
            *("-p", "no:cacheprovider", "-o", "junit_family=xunit1"),
        ]
        # The tests choose their backends themselves: a WORKBOOK_REDIS_URL exported for
        # `make serve`, say, must not point them at another Redis.
        env = {name: value for name, value in os.environ.items() if not name.startswith("WORKBOOK_")}
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        run = subprocess.run(command, cwd=ROOT, env=env, capture_output=not verbose, text=True)
        if not report.exists():
            raise PytestDidNotRun(f"pytest did not run:\n{run.stdout}\n{run.stderr}")
        cases = list(ET.parse(report).getroot().iter("testcase"))
        return cases, json.loads(errors.read_text(encoding="utf-8"))


def try_mutants(results: list[Result], source: str) -> None:
    """The second half of checking tests a learner wrote: each planted bug must make one fail.

    A check per mutant: caught when at least one of the learner's tests fails with it.
    Mutants are tried only for tests that all pass on the correct app (a test that always
    fails would catch every one), each in a pytest of its own, as many at once as there are cores.
    """
    ready = []
    for result in results:
        if not result.passed and not result.failed:
            result.failed.append(("your tests", "none ran: name each test function test_<what it checks>"))
        if result.failed or result.broken:
            result.failed.append(("planted bugs", "not tried yet: your tests must first pass on the correct app"))
        else:
            ready.append(result)
    tried = [(result, mutant) for result in ready for mutant in result.exercise.mutants]

    def run_with(test_file: Path, mutant: Mutant) -> list[ET.Element]:
        # -x: the first test that fails has caught the bug; the others need not run.
        return run_pytest([test_file], source, False, f"--mutant={mutant.label}", "-x")[0]

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        runs = list(pool.map(run_with, [result.exercise.test_file for result, _ in tried], [m for _, m in tried]))
    for (result, mutant), cases in zip(tried, runs, strict=True):
        # A test skipped with the bug has not caught it: it must fail.
        caught_by = [name for name, problem in map(outcome, cases) if problem not in (None, "skipped")]
        if caught_by:
            result.passed.append(f"catches planted bug {mutant.id} ({caught_by[0]} fails)")
        else:
            result.failed.append((f"planted bug {mutant.id} slipped through", mutant.describes))


def _dotted(file: Path) -> str:
    """tests/s09_testing/test_exercise_x.py as pytest's report names it: tests.s09_testing.test_exercise_x"""
    return ".".join(file.resolve().relative_to(ROOT).with_suffix("").parts)


def _owner(case: ET.Element, results: dict[str, Result]) -> Result | None:
    # A test case names its module in `classname` (with its class, if any). A test
    # imported from a learner's file has that file as its `file`; a module that did
    # not import is one case, named after the module, with an <error>.
    names = {case.get("classname", ""), case.get("name", "")}
    for module, result in results.items():
        if any(name == module or name.startswith(f"{module}.") for name in names):
            return result
    return None


def _record(case: ET.Element, result: Result, on: str = "") -> None:
    name, problem = outcome(case)
    if problem is None:
        result.passed.append(name)
    else:
        result.failed.append((name, f"{on}{problem}"))


def outcome(case: ET.Element) -> tuple[str, str | None]:
    """A test case's name, and why it did not pass (None if it did)."""
    # xunit1 reports carry the test file; a file that failed to import shows up
    # as one case named after the module, with an <error> instead of a result.
    name = case.get("name", "?")
    problem = case.find("failure")
    if problem is None:
        problem = case.find("error")
    if case.find("skipped") is not None:
        return name, "skipped"
    if problem is None:
        return name, None
    return name, reason(problem.get("message") or problem.text or "")


def _record_broken(broken: list[dict], results) -> None:
    by_module = {result.exercise.module: result for result in results}
    for entry in broken:
        result = by_module.get(entry["module"])
        if result is not None:
            file = Path(entry["file"])
            where = file.relative_to(ROOT) if file.is_relative_to(ROOT) else file
            line = f":{entry['line']}" if entry["line"] else ""
            result.broken = f"{where}{line}: {entry['error']}"


def reason(message: str) -> str:
    """What a learner needs from a failure: the assertion's sentence and the values compared.

    pytest's message is the sentence ("AssertionError: the detail"), then the
    comparison with both values ("assert {'detail': 'a'} == {'detail': 'b'}"),
    then, for containers, the items that differ; the advice about -v after a
    blank line is left out.
    """
    lines = message.strip().splitlines() or ["(no message)"]
    kept = []
    for line in lines:
        if not line.strip() or line.strip().startswith(("Use -v", "Full diff", "...Full output")):
            break
        kept.append(line.rstrip())
    if len(kept) > REASON_LINES:
        kept = [*kept[:REASON_LINES], "  ..."]
    return "\n".join(kept)

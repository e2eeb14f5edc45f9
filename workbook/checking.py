"""Run exercise tests and report them one exercise at a time.

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
from dataclasses import dataclass, field
from pathlib import Path

from workbook.stages import ROOT, Exercise

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


def run_exercises(exercises: list[Exercise], source: str = "lessons", verbose: bool = False) -> list[Result]:
    """Run the tests of `exercises` against `source` ("lessons", "solutions" or "stubs").

    With `verbose`, pytest's own output is shown as it runs.
    """
    results = {e.test_file.resolve(): Result(e) for e in exercises}
    if not results:
        return []
    with tempfile.TemporaryDirectory() as scratch:
        report, errors = Path(scratch) / "report.xml", Path(scratch) / "errors.json"
        command = [
            *(sys.executable, "-m", "pytest", *map(str, results)),
            f"--exercise-source={source}",
            f"--exercise-errors={errors}",
            f"--junitxml={report}",
            # pytest's own traceback, with source lines from every frame down through
            # FastAPI and Starlette, takes seconds to format and is never shown: the
            # report's message holds the reason. VERBOSE=1 shows pytest's usual output.
            *(["-v"] if verbose else ["-q", "--tb=native"]),
            *("-p", "no:cacheprovider", "-o", "junit_family=xunit1"),
        ]
        env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        run = subprocess.run(command, cwd=ROOT, env=env, capture_output=not verbose, text=True)
        if not report.exists():
            raise PytestDidNotRun(f"pytest did not run:\n{run.stdout}\n{run.stderr}")
        for case in ET.parse(report).getroot().iter("testcase"):
            _record(case, results)
        _record_broken(json.loads(errors.read_text(encoding="utf-8")), results.values())
    return list(results.values())


def _record(case: ET.Element, results: dict[Path, Result]) -> None:
    # xunit1 reports carry the test file; a file that failed to import shows up
    # as one case named after the module, with an <error> instead of a result.
    file = (ROOT / case.get("file", "")).resolve()
    result = results.get(file)
    if result is None:
        return
    problem = case.find("failure")
    if problem is None:
        problem = case.find("error")
    if case.find("skipped") is not None:
        result.failed.append((case.get("name", "?"), "skipped"))
    elif problem is None:
        result.passed.append(case.get("name", "?"))
    else:
        result.failed.append((case.get("name", "?"), reason(problem.get("message") or problem.text or "")))


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

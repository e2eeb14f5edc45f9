"""Run exercise tests and report them one exercise at a time.

pytest runs in a child process so that each check imports the learner's files
fresh, and writes a JUnit XML report that we read back: its `failure` elements
already hold the one-line reason a learner needs ("AssertionError: ...").
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from workbook.stages import ROOT, Exercise


@dataclass
class Result:
    exercise: Exercise
    passed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (test name, reason)

    @property
    def ok(self) -> bool:
        return bool(self.passed) and not self.failed


def run_exercises(exercises: list[Exercise], source: str = "lessons") -> list[Result]:
    """Run the tests of `exercises` against `source` ("lessons", "solutions" or "stubs")."""
    results = {e.test_file.resolve(): Result(e) for e in exercises}
    if not results:
        return []
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.xml"
        command = [
            sys.executable,
            "-m",
            "pytest",
            *map(str, results),
            f"--exercise-source={source}",
            f"--junitxml={report}",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "junit_family=xunit1",
        ]
        run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if not report.exists():
            raise RuntimeError(f"pytest did not run:\n{run.stdout}\n{run.stderr}")
        for case in ET.parse(report).getroot().iter("testcase"):
            _record(case, results)
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
        result.failed.append((case.get("name", "?"), _reason(problem)))


def _reason(problem: ET.Element) -> str:
    # The one-line message when pytest gives one; otherwise the last line of the traceback.
    text = problem.get("message") or (problem.text or "").strip().rpartition("\n")[2]
    # Keep the sentence a learner needs, not pytest's expression dump under it.
    return text.split("\nassert ")[0].strip()

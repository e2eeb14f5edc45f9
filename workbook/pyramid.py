"""The test pyramid of stage 09, counted and timed: how many tests each level has, and how long they take.

`measure()` runs pytest once, in a subprocess, on tests/s09_testing, with this
module loaded as a pytest plugin (`-p workbook.pyramid`). The plugin notes each
test's level (its marker: unit, api, integration, e2e) and the seconds its
set-up, call and tear-down took, and writes them to a JSON file the caller reads.
One run rather than one per level: the interpreter's start and the collection
are paid once, and each level's time is its tests' own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

LEVELS = ("unit", "api", "integration", "e2e")
REPORT_VARIABLE = "WORKBOOK_PYRAMID_REPORT"
ROOT = Path(__file__).resolve().parent.parent

_seconds: dict[str, float] = defaultdict(float)  # test id -> seconds, in the pytest run
_levels: dict[str, str] = {}  # test id -> level
_failed: set[str] = set()


@dataclass(frozen=True)
class Level:
    name: str
    tests: int
    seconds: float
    failed: int = 0

    @property
    def seconds_per_test(self) -> float:
        return self.seconds / self.tests if self.tests else 0.0


def measure(levels: Sequence[str] = LEVELS, folder: str = "tests/s09_testing", *options: str) -> list[Level]:
    """Run `levels` of the tests in `folder` (one pytest process, no parallelism); each level's count and time."""
    with tempfile.TemporaryDirectory(prefix="workbook-pyramid-") as scratch:
        report = Path(scratch) / "report.json"
        command = [
            sys.executable, "-m", "pytest", folder, "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
            "-p", "workbook.pyramid", "-p", "anyio", "-m", " or ".join(levels), *options,
        ]  # fmt: skip
        # Only the plugins these tests use: the others installed (nbval, schemathesis, hypothesis)
        # take seconds to import, and would be counted in no level.
        env = {**os.environ, REPORT_VARIABLE: str(report), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        if not report.exists():
            raise RuntimeError(f"pytest did not run the tests:\n{finished.stdout[-2000:]}{finished.stderr[-2000:]}")
        return summarise(json.loads(report.read_text()), levels)


def summarise(tests: list[dict], levels: Sequence[str] = LEVELS) -> list[Level]:
    """One Level per name in `levels`, from the plugin's per-test records."""
    return [
        Level(
            name,
            tests=sum(1 for test in tests if test["level"] == name),
            seconds=sum(test["seconds"] for test in tests if test["level"] == name),
            failed=sum(1 for test in tests if test["level"] == name and test["failed"]),
        )
        for name in levels
    ]


# --- The pytest plugin: loaded in the pytest subprocess by `-p workbook.pyramid` ---


def pytest_runtest_logreport(report) -> None:
    level = next((name for name in LEVELS if name in report.keywords), None)
    if level is None:
        return
    _levels[report.nodeid] = level
    _seconds[report.nodeid] += report.duration  # set-up, call and tear-down each report their share
    if report.failed:
        _failed.add(report.nodeid)


def pytest_sessionfinish(session) -> None:
    target = os.environ.get(REPORT_VARIABLE)
    if not target:
        return
    records = [
        {"id": test, "level": level, "seconds": _seconds[test], "failed": test in _failed}
        for test, level in _levels.items()
    ]
    Path(target).write_text(json.dumps(records), encoding="utf-8")

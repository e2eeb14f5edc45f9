"""`make coverage LESSON=09`: branch coverage of one stage's app, under that stage's own tests.

coverage.py runs pytest in a child process with `--branch`: a line counts as
covered when it ran, a branch (each way out of an `if`, a loop, a `try`) when it
was taken. A test suite that runs `if user is None:` only with a user covers the
line and misses the branch; line coverage alone would call it done.

Which tests are the stage's own: those in its folder (tests/s09_testing/), and the
shared tests parametrised over stages whose parameter id is the stage's number
(`test_x[09]`, `test_x[09-pyjwt]`). They are found by collecting, then run by node id.
Only the stage's package is measured (`--source`), without its load test, which
Locust runs and no test imports.

Only this process's own code is traced: a test that serves the app from a
subprocess (uvicorn, a Celery worker) exercises code that is not counted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from workbook.stages import ROOT, Stage, runs_stage

# The lowest total a stage's tests may reach, in percent (statements and branches
# together, as `coverage report` counts them): CI fails below it. Set a few points
# under what was measured, so that a change in what the suite runs fails, not noise.
# Stage 09 measured 91.7% (branches alone 77.0%) over 454 tests when its floor was set.
FLOORS = {"09": 88.0}
NOT_MEASURED = ["*/load/*"]
# The stage's tests need anyio's plugin only; the others installed (nbval, schemathesis,
# hypothesis, xdist) take seconds to import in every pytest process that loads them.
ONLY_PLUGINS_USED = ["-p", "anyio", "-p", "no:randomly"]


@dataclass(frozen=True)
class ModuleCoverage:
    module: str  # relative to the stage folder, e.g. "routes/products.py"
    statements: int
    missed_statements: int
    branches: int
    missed_branches: int
    percent: float  # statements and branches together: coverage.py's own figure
    # Each branch never taken, as (line, line it would have gone to); a negative target is leaving the function.
    branches_not_taken: list[tuple[int, int]]

    @property
    def branch_percent(self) -> float:
        return 100.0 if not self.branches else 100.0 * (self.branches - self.missed_branches) / self.branches


@dataclass(frozen=True)
class CoverageReport:
    tests: int  # node ids that were run
    passed: bool  # pytest's own verdict
    outcome: str  # pytest's last line, e.g. "2 failed, 284 passed in 61.20s"
    modules: list[ModuleCoverage]
    percent: float  # the total, statements and branches together

    @property
    def branch_percent(self) -> float:
        branches = sum(module.branches for module in self.modules)
        missed = sum(module.missed_branches for module in self.modules)
        return 100.0 if not branches else 100.0 * (branches - missed) / branches


def stage_test_ids(stage: Stage) -> list[str]:
    """The node ids of every test that runs the stage's app, as pytest collects them."""
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "tests", "--collect-only", "-q", *ONLY_PLUGINS_USED],
        cwd=ROOT,
        env=_without_plugin_autoload(),
        capture_output=True,
        text=True,
    )
    node_ids = [line for line in collected.stdout.splitlines() if line.startswith("tests/") and "::" in line]
    if collected.returncode != 0 or not node_ids:
        raise RuntimeError(f"pytest could not collect the tests:\n{collected.stdout[-3000:]}{collected.stderr}")
    return [node_id for node_id in node_ids if runs_stage(node_id, stage)]


def _without_plugin_autoload() -> dict[str, str]:
    return {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def measure(stage: Stage, tests: list[str] | None = None) -> CoverageReport:
    """Run `tests` (the stage's own, by default) under branch coverage of the stage's package."""
    tests = tests if tests is not None else stage_test_ids(stage)
    with tempfile.TemporaryDirectory(prefix="workbook-coverage-") as scratch:
        data, report = Path(scratch) / ".coverage", Path(scratch) / "coverage.json"
        coverage = [sys.executable, "-m", "coverage"]
        measuring = ["run", "--branch", f"--data-file={data}", f"--source={stage.directory}"]
        measuring.append(f"--omit={','.join(NOT_MEASURED)}")
        pytest = ["-m", "pytest", *tests, "-q", "--color=no", *ONLY_PLUGINS_USED]
        run = [*coverage, *measuring, *pytest]
        ran = subprocess.run(run, cwd=ROOT, env=_without_plugin_autoload(), capture_output=True, text=True)
        if not data.exists():
            raise RuntimeError(f"the tests did not run:\n{ran.stdout[-3000:]}{ran.stderr}")
        subprocess.run([*coverage, "json", f"--data-file={data}", "-o", str(report), "-q"], cwd=ROOT, check=True)
        measured = json.loads(report.read_text(encoding="utf-8"))
    modules = [_module(stage, path, measured_file) for path, measured_file in sorted(measured["files"].items())]
    lines = [line for line in ran.stdout.splitlines() if line.strip()]
    failures = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
    outcome = "\n".join([*failures, lines[-1] if lines else ""])
    return CoverageReport(len(tests), ran.returncode == 0, outcome, modules, measured["totals"]["percent_covered"])


def _module(stage: Stage, path: str, measured: dict) -> ModuleCoverage:
    summary = measured["summary"]
    return ModuleCoverage(
        module=(ROOT / path).resolve().relative_to(stage.directory).as_posix(),
        statements=summary["num_statements"],
        missed_statements=summary["missing_lines"],
        branches=summary["num_branches"],
        missed_branches=summary["missing_branches"],
        percent=summary["percent_covered"],
        branches_not_taken=[(start, end) for start, end in measured["missing_branches"]],
    )


def table(report: CoverageReport) -> str:
    lines = [f"{'module':<28} {'stmts':>6} {'miss':>5} {'branch':>6} {'miss':>5} {'cover':>6}"]
    for m in report.modules:
        lines.append(
            f"{m.module:<28} {m.statements:>6} {m.missed_statements:>5} {m.branches:>6}"
            f" {m.missed_branches:>5} {m.percent:>5.1f}%"
        )
    lines.append(f"{'total':<28} {'':>6} {'':>5} {'':>6} {'':>5} {report.percent:>5.1f}%")
    lines.append(f"branches taken: {report.branch_percent:.1f}%, over {report.tests} tests")
    return "\n".join(lines)

"""How long the workbook's own checks take: `make bench-check` and `make bench-test`.

    python -m workbook.speed check   # `make check` for each stage, and for each exercise alone
    python -m workbook.speed test    # `make test` once, then its time by stage and by notebook
    python -m workbook.speed test --stages 00-07   # the same for some stages only

These measure, they do not judge: a learner should get an answer from
`make check LESSON=NN EXERCISE=id` within about 3 seconds, and no notebook
should take more than about 20 (both on a two-core laptop with nothing else
running); the tables mark what is over.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from workbook.cli import NBVAL, PARALLEL
from workbook.stages import ROOT, load_stages, runs_stage

CHECK_TARGET = 3.0  # seconds for one exercise
NOTEBOOK_TARGET = 20.0  # seconds for one notebook
STAGES = load_stages()


def _seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, capture_output=True)
    return time.perf_counter() - started


def bench_check() -> None:
    check = [sys.executable, "-m", "workbook", "check"]
    print(f"{'stage':<32} {'exercise':<22} seconds")
    for stage in load_stages():
        print(f"{stage.number} {stage.title:<29} {'(all)':<22} {_seconds([*check, stage.number]):6.1f}")
        for exercise in stage.exercises:
            seconds = _seconds([*check, stage.number, exercise.id])
            over = "  over the 3 s target" if seconds > CHECK_TARGET else ""
            print(f"{'':<32} {exercise.id:<22} {seconds:6.1f}{over}")


def bench_test(pytest_args: list[str]) -> None:
    """Run `make test` once (pytest arguments added, `--stages 00-07` say) and print where the time went."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.xml"
        command = [sys.executable, "-m", "pytest", "tests", "notebooks", *NBVAL, *PARALLEL, "-q"]
        command += [f"--junitxml={report}", "-o", "junit_family=xunit1", *pytest_args]
        load_before, cpu_before = os.getloadavg()[0], _children_cpu()
        started = time.perf_counter()
        status = subprocess.run(command, cwd=ROOT, capture_output=True).returncode
        wall = time.perf_counter() - started
        # Every process the run started (workers, kernels, servers, child pytests) once it has ended.
        cpu = _children_cpu() - cpu_before
        cases = list(ET.parse(report).getroot().iter("testcase"))
    print(f"make test: {wall:.0f} s wall, {cpu:.0f} s of CPU (user and system), pytest exit status {status}")
    print(
        f"load average (1 minute) before: {load_before:.1f}, after: {os.getloadavg()[0]:.1f}, on {os.cpu_count()} cores"
    )
    print("Time spent in tests (setup, call and teardown; summed over the workers):")
    _table("by stage (its folder, its notebook, shared tests run on it)", _sums(cases, _stage_of))
    _table("by notebook", {name: seconds for name, seconds in _sums(cases, _file).items() if name.endswith(".ipynb")})
    _table(
        "by test folder or shared test file",
        {name: t for name, t in _sums(cases, _group).items() if name.startswith("tests")},
    )
    print(f"  {'all tests':<45} {sum(float(case.get('time', 0)) for case in cases):6.1f} s")
    for case in cases:
        if case.find("failure") is not None or case.find("error") is not None:
            print(f"failed: {_file(case)}::{case.get('name')}")


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _sums(cases: list[ET.Element], key) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for case in cases:
        totals[key(case)] += float(case.get("time", 0))
    return totals


def _table(title: str, totals: dict[str, float]) -> None:
    print(f" {title}:")
    for name in sorted(totals):
        slow = name.endswith(".ipynb") and totals[name] > NOTEBOOK_TARGET
        print(f"  {name:<45} {totals[name]:6.1f} s{'  over the 20 s target' if slow else ''}")


def _file(case: ET.Element) -> str:
    return case.get("file") or case.get("classname") or ""


def _stage_of(case: ET.Element) -> str:
    node_id = f"{_file(case)}::{case.get('name', '')}"
    named = [stage.number for stage in STAGES if runs_stage(node_id, stage)]
    return f"stage {named[0]}" if named else "the workbook's tooling (no stage)"


def _group(case: ET.Element) -> str:
    # tests/s04_celery/test_worker.py -> tests/s04_celery; a notebook and a top-level test file stand alone.
    parts = Path(_file(case)).parts
    return "/".join(parts[:2]) if len(parts) > 2 else _file(case)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbook.speed", description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["check", "test"])
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="for `test`: passed to pytest")
    args = parser.parse_args(argv)
    if args.what == "check":
        bench_check()
    else:
        bench_test(args.pytest_args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How long the workbook's own checks take: `make bench-check` and `make bench-test`.

    python -m workbook.speed check   # `make check` for each stage, and for each exercise alone
    python -m workbook.speed test    # `make test` once, then its time by stage and by notebook

These measure, they do not judge: a learner should get an answer from
`make check LESSON=NN EXERCISE=id` within about 3 seconds, and no notebook
should take more than about 20 (both on a two-core laptop with nothing else
running); the tables mark what is over.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from workbook.cli import NBVAL, PARALLEL
from workbook.stages import ROOT, load_stages

CHECK_TARGET = 3.0  # seconds for one exercise
NOTEBOOK_TARGET = 20.0  # seconds for one notebook


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
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.xml"
        command = [sys.executable, "-m", "pytest", "tests", "notebooks", *NBVAL, *PARALLEL, "-q"]
        command += [f"--junitxml={report}", "-o", "junit_family=xunit1", *pytest_args]
        started = time.perf_counter()
        status = subprocess.run(command, cwd=ROOT, capture_output=True).returncode
        wall = time.perf_counter() - started
        totals: dict[str, float] = defaultdict(float)
        for case in ET.parse(report).getroot().iter("testcase"):
            totals[_group(case.get("file") or case.get("classname") or "")] += float(case.get("time", 0))
    print(f"make test: {wall:.0f} s wall, pytest exit status {status}")
    print("Time spent in each group's tests (setup, call and teardown; summed over the workers):")
    for group in sorted(totals):
        over = "  over the 20 s target" if group.startswith("notebooks/") and totals[group] > NOTEBOOK_TARGET else ""
        print(f"  {group:<45} {totals[group]:6.1f} s{over}")


def _group(file: str) -> str:
    # tests/s04_celery/test_worker.py -> tests/s04_celery; a notebook and a top-level test file stand alone.
    parts = Path(file).parts
    return "/".join(parts[:2]) if len(parts) > 2 else file


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

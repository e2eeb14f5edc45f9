"""`make bench LESSON=NN`: which stages have a benchmark, and how its table reads."""

import subprocess
import sys

from workbook import bench
from workbook.stages import ROOT, get_stage


def test_stage_05_has_a_benchmark_and_stage_02_does_not():
    assert bench.has_bench(get_stage("05"))
    assert not bench.has_bench(get_stage("02"))


def test_a_stage_without_a_benchmark_gets_a_clear_answer():
    done = subprocess.run(
        [sys.executable, "-m", "workbook", "bench", "02"], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert "has no benchmark" in done.stdout


def test_ratios_are_printed_in_the_shape_the_notebook_sanitizer_knows():
    assert [bench.ratio_text(value) for value in (10.04, 1.0, 0.013)] == ["10.0×", "1.0×", "0.01×"]


def test_the_table_lists_every_measurement_and_the_three_headline_ratios():
    rows = [
        bench.Measurement("blocking I/O", "async def + blocking query", 2.0, 10.0, "one at a time"),
        bench.Measurement("blocking I/O", "def route", 0.25, 1.25, "concurrent"),
        bench.Measurement("CPU work", "CPU work inline in async def", 0.5, 0.9, "waited"),
        bench.Measurement("CPU work", "CPU work in the process pool", 0.01, 0.02, "at once"),
        bench.Measurement("thread limit", "thread limit 40", 2.2, 2.2, "two rounds"),
        bench.Measurement("thread limit", "thread limit 100", 1.1, 1.1, "one round"),
    ]
    lines = bench.table(rows).splitlines()
    assert sum(line.startswith("  ") for line in lines) == len(rows)
    assert lines[-3:] == [
        "a blocking query in async def took 8.0× as long as in a def route",
        "/health's slowest ping, CPU work inline vs in the pool: 50.0×",
        "50 blocking calls, thread limit 40 vs thread limit 100: 2.0×",
    ]

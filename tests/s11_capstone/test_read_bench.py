"""`make bench LESSON=11` works: both apps served, loaded by wrk, every answer a 200, a ratio printed.

A benchmark is not a test: this one runs it briefly (a one-second round each) and
checks that it measured, not how fast the machine was. On the services tier
(--services) it runs on PostgreSQL and Redis, as `make bench` does when they answer.
"""

import shutil

import pytest

from workbook import read_bench
from workbook.stages import get_stage

STAGE = get_stage("11")


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)")
@pytest.mark.services
def test_the_bench_measures_the_read_and_the_hello_world_side_by_side(services, capsys):
    result = read_bench.measure(STAGE, on_services=services, rounds=1, seconds=1)
    with capsys.disabled():
        print("\n" + read_bench.table(result))
    for side in (result.hello, result.read):
        assert side.rounds[0].requests > 0, side.name
        assert side.failed == 0, f"{side.name}: {side.failed} answers were not 200"
    # The load generator was not the bottleneck: it used well under the core it had.
    assert result.hello.load_share < 0.6, result.hello.load_share
    assert 0 < result.ratio < 2


def test_wrk_summaries_are_read_with_their_failures():
    summary = (
        "  10368 requests in 2.00s, 1.51MB read\n"
        "  Socket errors: connect 0, read 2, write 0, timeout 3\n"
        "  Non-2xx or 3xx responses: 4\n"
    )
    assert read_bench.parse_wrk(summary) == (10368, 2.0, 9)
    assert read_bench.parse_wrk("  12 requests in 500.00ms, 1KB read\n") == (12, 0.5, 0)

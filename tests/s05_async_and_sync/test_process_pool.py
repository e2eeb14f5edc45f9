"""CPU-bound work: counted correctly, in another process, without stalling /health."""

import asyncio
import multiprocessing
import os

import pytest

from lessons.s05_async_and_sync.cpu_work import count_primes, prime_count
from workbook import bench

from .conftest import STAGE


@pytest.mark.parametrize(("limit", "primes"), [(2, 0), (3, 1), (100, 25), (1000, 168), (10_000, 1229)])
def test_count_primes(limit, primes):
    assert count_primes(limit) == primes


def test_inline_counts_in_the_server_process_and_the_pool_in_another(lab_client):
    inline = lab_client.get("/lab/cpu/inline?limit=1000").json()
    pooled = lab_client.get("/lab/cpu/process-pool?limit=1000").json()
    assert inline == {"limit": 1000, "primes": 168, "pid": os.getpid()}
    assert pooled["primes"] == 168
    assert pooled["pid"] != os.getpid()


def test_the_pools_workers_are_children_of_the_server_and_stop_with_the_app(stage_env):
    for client in STAGE.serve():
        pool = client.app_state["process_pool"]
        pids = {client.get("/lab/cpu/process-pool?limit=100").json()["pid"] for _ in range(3)}
        workers = {child.pid for child in multiprocessing.active_children()}
        assert pids <= workers, "every count came from a worker process this process started"
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(prime_count, 10)
    assert not workers & {child.pid for child in multiprocessing.active_children()}, "the workers have exited"


@pytest.mark.parametrize("limit", ["1", "300001", "2000000", "many"])
def test_a_limit_out_of_range_answers_422(client, limit):
    assert client.get(f"/lab/cpu/process-pool?limit={limit}").status_code == 422


def test_health_waits_for_cpu_work_inline_but_not_in_the_pool(served):
    async def slowest_pings(url: str) -> dict[str, float]:
        async with bench.client_for(url) as http:
            await http.get("/lab/cpu/process-pool", params={"limit": 10})  # start a worker process
            return {path: (await bench.ping_during(http, path))[0] for path in bench.CPU_ROUTES.values()}

    with served() as url:
        pings = asyncio.run(slowest_pings(url))
    inline, pooled = pings["/lab/cpu/inline"], pings["/lab/cpu/process-pool"]
    assert inline > 3 * pooled, f"slowest ping: {inline:.3f} s with the work inline, {pooled:.3f} s with the pool"

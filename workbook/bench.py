"""`make bench LESSON=NN`: what blocks the event loop, measured over real HTTP.

Stage 05 has the /lab routes (`lab.py`). The benchmark serves the
stage with uvicorn, fires truly concurrent requests at it with httpx2's
AsyncClient and asyncio.gather, and reports ratios: absolute times depend on the
machine, ratios tell the story. A stage with `payments.py` gets the benchmark of
workbook/client_bench.py instead: an HTTP client per request against a shared one.
Notebook 05 prints the same table by calling `measure` and `table` from here.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx2

from workbook.payment_provider import has_payments
from workbook.serving import free_port, overlaid_environment, running
from workbook.stages import Stage

TENANT = {"X-Tenant-ID": "acme"}
# Blocking I/O: this many concurrent requests, each running a query that waits this long.
IO_REQUESTS = 10
QUERY_SECONDS = 0.2
# The thread limit: more concurrent blocking calls than anyio's default of 40 threads.
THREAD_REQUESTS = 50
CALL_SECONDS = 1.0
RAISED_LIMIT = 100
# CPU-bound work: count the primes below this (several tenths of a second of pure Python).
PRIME_LIMIT = 300_000

IO_ROUTES = {
    "async def + blocking query": "/lab/io/blocking",
    "def route": "/lab/io/def",
    "async def + run_in_threadpool": "/lab/io/threadpool",
    "async def + async driver": "/lab/io/async-driver",
}
CPU_ROUTES = {
    "CPU work inline in async def": "/lab/cpu/inline",
    "CPU work in the process pool": "/lab/cpu/process-pool",
}


@dataclass(frozen=True)
class Measurement:
    experiment: str
    variant: str
    seconds: float
    ratio: float  # seconds divided by the experiment's unit (see UNITS)
    verdict: str
    at_once: int | None = None  # thread limit: the most calls seen running at the same time


UNITS = {
    "blocking I/O": f"{IO_REQUESTS} concurrent requests, each a {QUERY_SECONDS} s query; × one query",
    "thread limit": f"{THREAD_REQUESTS} concurrent def requests, each a {CALL_SECONDS} s blocking call; × one call",
    "CPU work": "the slowest /health ping while primes are counted; × the counting request's own time",
}


def has_lab(stage: Stage) -> bool:
    return (stage.directory / "lab.py").is_file()


def has_bench(stage: Stage) -> bool:
    """Stage 05's /lab routes (`lab.py`), or a payment service's HTTP client (`payments.py`: client_bench.py)."""
    return has_lab(stage) or has_payments(stage)


def ratio_text(value: float) -> str:
    """Ratios are printed as `12.3×`; notebooks/sanitize.cfg replaces that shape, as they vary run to run."""
    return f"{value:.1f}×" if value >= 0.95 else f"{value:.2f}×"


def lab_settings(port: int) -> dict[str, str]:
    """What the /lab routes need to be measured: the blocking ones on, and where the slow service runs."""
    return {"lab_blocking_routes": "true", "lab_slow_service_url": f"http://127.0.0.1:{port}/lab/slow-service"}


@contextmanager
def serving(stage: Stage, **settings: str) -> Iterator[str]:
    """Serve the stage with uvicorn, with WORKBOOK_* settings such as thread_limit="100"; yields its URL.

    The lab's own settings (`lab_settings`) are set too; `settings` may override them.
    """
    get_settings = importlib.import_module(f"lessons.{stage.package}.settings").get_settings
    port = free_port()
    settings = lab_settings(port) | settings
    names = {f"WORKBOOK_{name.upper()}": value for name, value in settings.items()}
    with overlaid_environment(names):
        get_settings.cache_clear()  # the lifespan reads the settings afresh
        try:
            with running(stage.app, port) as url:
                yield url
        finally:
            get_settings.cache_clear()


def client_for(url: str) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(base_url=url, headers=TENANT, timeout=60)


async def concurrently(client: httpx2.AsyncClient, path: str, count: int, **params) -> float:
    """Send `count` requests at once; the seconds until the last answer arrived."""
    started = time.perf_counter()
    responses = await asyncio.gather(*(client.get(path, params=params) for _ in range(count)))
    seconds = time.perf_counter() - started
    for response in responses:
        response.raise_for_status()
    return seconds


async def blocking_io(client: httpx2.AsyncClient) -> list[Measurement]:
    rows = []
    for variant, path in IO_ROUTES.items():
        await concurrently(client, path, IO_REQUESTS, seconds=0.01)  # warm up: open the pools' connections
        seconds = await concurrently(client, path, IO_REQUESTS, seconds=QUERY_SECONDS)
        ratio = seconds / QUERY_SECONDS
        verdict = "one at a time: the loop was blocked" if ratio >= IO_REQUESTS / 2 else "concurrent"
        rows.append(Measurement("blocking I/O", variant, seconds, ratio, verdict))
    return rows


async def ping_during(client: httpx2.AsyncClient, path: str) -> tuple[float, float]:
    """Count primes with `path` and ping /health until it is done: (slowest ping, counting request's time)."""
    started = time.perf_counter()
    job = asyncio.create_task(client.get(path, params={"limit": PRIME_LIMIT}))
    slowest = 0.0
    while not job.done():
        sent = time.perf_counter()
        (await client.get("/health")).raise_for_status()
        slowest = max(slowest, time.perf_counter() - sent)
    (await job).raise_for_status()
    return slowest, time.perf_counter() - started


async def cpu_work(client: httpx2.AsyncClient) -> list[Measurement]:
    # The pool starts its worker processes on first use: start one before measuring.
    (await client.get(CPU_ROUTES["CPU work in the process pool"], params={"limit": 10})).raise_for_status()
    rows = []
    for variant, path in CPU_ROUTES.items():
        ping, job = await ping_during(client, path)
        ratio = ping / job
        verdict = "/health waited for the CPU work" if ratio >= 0.3 else "/health answered at once"
        rows.append(Measurement("CPU work", variant, ping, ratio, verdict))
    return rows


async def most_threads_in_use(client: httpx2.AsyncClient, job: asyncio.Task) -> int:
    """The most threads the pool lent out at once while `job` ran, read from /lab/threads."""
    most = 0
    while not job.done():
        most = max(most, (await client.get("/lab/threads")).json()["in_use"])
        await asyncio.sleep(0.05)
    return most


async def thread_limit(client: httpx2.AsyncClient) -> Measurement:
    """Fire THREAD_REQUESTS blocking calls at once; how long they took, and how many ran together.

    The verdict rests on the count, not the time: a busy machine stretches every
    call, but cannot make more calls hold a thread than the pool lends out.
    """
    limit = (await client.get("/lab/threads")).json()["limit"]
    await concurrently(client, "/lab/threads/blocking-call", THREAD_REQUESTS, seconds=0.01)  # warm up
    job = asyncio.create_task(concurrently(client, "/lab/threads/blocking-call", THREAD_REQUESTS, seconds=CALL_SECONDS))
    at_once = await most_threads_in_use(client, job)
    seconds = await job
    rounds = -(-THREAD_REQUESTS // max(at_once, 1))  # the calls, in batches of at most `at_once`
    if rounds == 1:
        verdict = f"in one round: all {at_once} at once"
    else:
        verdict = f"in {rounds} rounds: {at_once} at a time, the others waited for a thread"
    return Measurement("thread limit", f"thread limit {limit}", seconds, seconds / CALL_SECONDS, verdict, at_once)


async def measure(stage: Stage) -> list[Measurement]:
    """Every measurement, on servers started here and stopped before returning."""
    if not has_lab(stage):
        raise LookupError(f"stage {stage.number} has no /lab routes to measure: stage 05 has them")
    with serving(stage) as url:
        async with client_for(url) as client:
            rows = await blocking_io(client)
            rows += await cpu_work(client)
            rows.append(await thread_limit(client))
    with serving(stage, thread_limit=str(RAISED_LIMIT)) as url:
        async with client_for(url) as client:
            rows.append(await thread_limit(client))
    return rows


def headline(rows: list[Measurement]) -> list[str]:
    """The three comparisons the stage makes, each as one ratio."""
    by_variant = {row.variant: row for row in rows}
    blocked, fixed = by_variant["async def + blocking query"], by_variant["def route"]
    inline, pooled = (by_variant[variant] for variant in CPU_ROUTES)
    default, raised = (row for row in rows if row.experiment == "thread limit")
    return [
        f"a blocking query in async def took {ratio_text(blocked.seconds / fixed.seconds)} as long as in a def route",
        f"/health's slowest ping, CPU work inline vs in the pool: {ratio_text(inline.seconds / pooled.seconds)}",
        f"{THREAD_REQUESTS} blocking calls, {default.variant} vs {raised.variant}: "
        f"{ratio_text(default.seconds / raised.seconds)}",
    ]


def table(rows: list[Measurement]) -> str:
    lines = []
    for experiment, unit in UNITS.items():
        lines.append(f"{experiment}: {unit}")
        for row in rows:
            if row.experiment == experiment:
                lines.append(f"  {row.variant:<34} {ratio_text(row.ratio):>7}  {row.verdict}")
    lines.append("")
    lines.extend(headline(rows))
    return "\n".join(lines)


def run(stage: Stage) -> list[Measurement]:
    return asyncio.run(measure(stage))


def report(stage: Stage) -> str:
    """The stage's benchmark, run and printed as a table: the lab's, or the HTTP client's."""
    if has_lab(stage):
        return table(run(stage))
    from workbook import client_bench  # it imports this module: imported only when needed

    return client_bench.table(client_bench.run(stage))

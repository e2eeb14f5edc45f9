"""Each step of stage 11's signed-in product read, timed on its own, in one process.

Notebook 11 prints the table this returns: the median wall time (or, where it says
so, the CPU time) of each step in microseconds, the least of a few rounds, on the embedded defaults, with the
app's lifespan running and nothing over the network. Pairs of rows are one fix each
(a step before and after), and the whole read beside a bare hello-world says what
is left. `make bench LESSON=11` (workbook/read_bench.py) measures the same read over
real HTTP.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import math
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

import httpx2
import structlog
from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from pydantic import TypeAdapter

from lessons.s11_capstone import token_versions
from lessons.s11_capstone.main import app
from lessons.s11_capstone.product_cache import load_product, product_key
from lessons.s11_capstone.product_schemas import ProductOut
from lessons.s11_capstone.rate_limiting import rate_limiter
from lessons.s11_capstone.read_gate import count_and_check
from lessons.s11_capstone.settings import get_settings
from workbook.hello_app import app as hello_app
from workbook.serving import overlaid_environment

# Rounds of measuring every step: each step keeps its least figure (time_steps says why).
ROUNDS = 3
# bcrypt at its lowest cost for the one log-in, and a rate limit the repeated reads stay under.
PROFILE_ENV = {"WORKBOOK_BCRYPT_ROUNDS": "4", "WORKBOOK_RATE_LIMIT_PER_MINUTE": str(10**9)}


@contextlib.contextmanager
def profile_settings() -> Iterator[None]:
    """The app's settings with PROFILE_ENV laid over them, for as long as the block runs."""
    with overlaid_environment(PROFILE_ENV):
        get_settings.cache_clear()
        try:
            yield
        finally:
            get_settings.cache_clear()


async def median_us(step, repeat: int = 200) -> float:
    """The median time of `await step()`, in microseconds, after a few runs to warm up."""
    for _ in range(20):
        await step()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await step()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


async def cpu_us(step, repeat: int = 200) -> float:
    """The CPU time of `await step()`, every thread of this process counted, in microseconds per call.

    CPU time, not wall time: on a busy machine a request that waits for its turn on a core
    takes longer, but costs no more."""
    for _ in range(20):
        await step()
    started = time.process_time()
    for _ in range(repeat):
        await step()
    return (time.process_time() - started) / repeat * 1e6


def with_state(asgi, state):
    """The app with its lifespan's state in each request, as uvicorn would hand it over."""

    async def app_with_state(scope, receive, send):
        scope["state"] = dict(state)
        await asgi(scope, receive, send)

    return app_with_state


async def nothing() -> None:
    return None


def nothing_in_a_thread():
    return None


# FastAPI resolving providers, on their own: a route that asks for eleven that do
# nothing (as the read's did), and one that asks for one (as admit_reader is).
def a_provider():
    async def provide() -> None:
        return None

    return provide  # a new function each time: FastAPI resolves each once per request


def route_of(providers: int):
    async def route(**_: None) -> None:
        return None

    # FastAPI reads a route's parameters from its signature: this one is made, with `providers` of them.
    route.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                f"p{n}", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[None, Depends(a_provider())]
            )
            for n in range(providers)
        ]
    )
    bare = FastAPI()
    bare.get("/")(route)
    return bare


async def time_steps(rounds: int = ROUNDS) -> dict[str, float]:
    """Microseconds per step of the read, and of the whole read and a hello-world, in this process.

    Every step is measured once in each of `rounds` rounds, the steps taking turns, and keeps
    its least figure: whatever else the machine does only ever adds time, and it falls on the
    two sides of a comparison alike instead of on whichever was measured at a busy moment.
    """
    # The client's own log line for each request would otherwise land in the caller's output.
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    steps: dict[str, float] = {}
    with profile_settings(), open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        # The app logs JSON to whatever sys.stdout is: to a file that discards, while it runs here.
        async with contextlib.AsyncExitStack() as running:
            plan = await _plan(running)
            for _ in range(rounds):
                for step, measure in plan.items():
                    steps[step] = min(steps.get(step, math.inf), await measure())
    return steps


def _client(asgi) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=asgi), base_url="http://app")


async def _plan(running: contextlib.AsyncExitStack) -> dict[str, Callable[[], Awaitable[float]]]:
    """Each step's name and what measures it once, with the app's lifespan (and every client) open in `running`."""
    state = await running.enter_async_context(app.router.lifespan_context(app))
    assert state is not None, "the stage's lifespan yields its resources"
    shop = await running.enter_async_context(_client(with_state(app, state)))
    form = {"username": "admin@acme.example", "password": "storefront-demo-admin", "client_id": "acme"}
    token = (await shop.post("/token", data=form)).json()["access_token"]
    signed_in = {"Authorization": f"Bearer {token}", "X-Tenant-ID": "acme"}
    tokens, revocation, redis = state["tokens"], state["revocation"], state["redis"]
    tenant = state["tenants"].get("acme")
    claims = tokens.decode(token, expected="access")
    remembered_versions = token_versions.TokenVersions()
    products = state["product_caches"].products
    key = product_key("acme", "MUG-001")
    product = await products.get(key, lambda: run_in_threadpool(load_product, tenant, "MUG-001"))
    as_json = TypeAdapter(ProductOut)

    async def verify_in_full():
        tokens.verify(token)

    async def remembered_token():
        tokens.decode(token, expected="access")

    async def serialise():
        as_json.dump_json(product)

    async def log_a_line():
        # The app's JSON handler writes to whatever sys.stdout is: a file that discards, here.
        structlog.get_logger().info("request.answered", method="GET", path="/products/MUG-001", status=200)

    async def read_in_process():
        (await shop.get("/products/MUG-001", headers=signed_in)).raise_for_status()

    plan: dict[str, Callable[[], Awaitable[float]]] = {
        "an async def provider": lambda: median_us(nothing),
        "a def provider: a worker thread and back": lambda: median_us(lambda: run_in_threadpool(nothing_in_a_thread)),
        "token checked in full (HS256, claims)": lambda: median_us(verify_in_full),
        "token remembered, expiry checked": lambda: median_us(remembered_token),
        "denylist and family: one Redis round trip": lambda: median_us(
            lambda: revocation.is_active("acme", claims.jti, claims.fam)
        ),
        "rate limit: one Redis transaction": lambda: median_us(lambda: rate_limiter.hit(redis, "rate-limit:bench")),
        "rate limit, denylist and family: one Lua script": lambda: median_us(
            lambda: count_and_check(redis, "rate-limit:bench", revocation, claims)
        ),
        "token version from the database": lambda: median_us(
            lambda: run_in_threadpool(token_versions.load_version, tenant, claims.user_id)
        ),
        "token version remembered": lambda: median_us(lambda: remembered_versions.current(tenant, claims.user_id)),
        "product from this process's cache": lambda: median_us(lambda: products.get(key, nothing)),
        "answer serialised to JSON": lambda: median_us(serialise),
        "one JSON log line": lambda: median_us(log_a_line),
        "the whole signed-in read, in process (CPU)": lambda: cpu_us(read_in_process),
    }
    for name, bare in (("eleven providers", route_of(11)), ("one provider", route_of(1))):
        plan[f"a route of {name}, in process (CPU)"] = _cpu_of_root(await running.enter_async_context(_client(bare)))
    hello = await running.enter_async_context(_client(hello_app))
    plan["the whole hello-world, in process (CPU)"] = _cpu_of_root(hello)
    return plan


def _cpu_of_root(client: httpx2.AsyncClient) -> Callable[[], Awaitable[float]]:
    async def get_root():
        (await client.get("/")).raise_for_status()

    return lambda: cpu_us(get_root)

"""Two worker processes, one database, one Redis: a price changed through one is served by the other.

Each process is a real uvicorn on its own port. On the embedded default they
share a SQLite file and the embedded Redis (fakeredis over TCP); with --services,
a fresh PostgreSQL database and the test Redis. They run against every stage whose API
reports on its cache, each stage's app in turn.
"""

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import httpx2
import pytest

from workbook.broker import embedded_broker
from workbook.serving import free_port
from workbook.stages import ROOT

from .auth_helpers import ACME, bearer, log_in_as_admin
from .stage_apps import StageApp, stage_app_fixture

stage_app = stage_app_fixture("/health/cache")

pytestmark = pytest.mark.services

NEW_MUG = {"name": "Enamel mug", "price": "13.75", "stock": 40}


@contextmanager
def worker_process(stage_app: StageApp, env: dict[str, str]) -> Iterator[httpx2.Client]:
    """One uvicorn process serving the stage; yields a client for it once it answers."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", stage_app.import_path, "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, f"the process stopped: {process.stderr.read().decode()}"
                assert time.monotonic() < deadline, "the process did not answer within 60 s"
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx2.TransportError:
                    time.sleep(0.1)
            yield client
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stderr.close()


@pytest.fixture
def two_processes(stage_app, database_url, redis_url, tmp_path) -> Callable:
    """Start two processes on the same database and Redis, with or without the invalidation broadcast."""

    @contextmanager
    def start(broadcast: bool) -> Iterator[tuple[httpx2.Client, httpx2.Client]]:
        with ExitStack() as stack:
            env = {
                **os.environ,
                # The embedded default: a file both processes open, and the embedded Redis both reach.
                "WORKBOOK_DATABASE_URL": database_url if redis_url else f"sqlite:///{tmp_path / 'shop.db'}",
                "WORKBOOK_REDIS_URL": redis_url or stack.enter_context(embedded_broker()),
                "WORKBOOK_BCRYPT_ROUNDS": "4",
                "WORKBOOK_PRODUCT_CACHE_LOCAL_SECONDS": "60",  # the stale copy outlives the test
                "WORKBOOK_PRODUCT_CACHE_BROADCAST": str(broadcast).lower(),
            }
            # One after the other: on SQLite nothing serialises the creation of the tables.
            first = stack.enter_context(worker_process(stage_app, env))
            yield first, stack.enter_context(worker_process(stage_app, env))

    return start


def price(client: httpx2.Client) -> str:
    response = client.get("/products/MUG-001", headers=ACME)
    assert response.status_code == 200, response.text
    return response.json()["price"]


def change_price_through(client: httpx2.Client) -> None:
    admin = log_in_as_admin(client)
    response = client.put("/admin/products/MUG-001", json=NEW_MUG, headers=bearer(admin["access_token"]))
    assert response.status_code == 200, response.text


def prices_seen_by_b_after_a_write(start, broadcast: bool) -> tuple[str, list[str]]:
    with start(broadcast) as (a, b):
        assert price(b) == "12.50", "B has read the mug, and keeps it in its local tier"
        change_price_through(a)
        seen = []
        deadline = time.monotonic() + 2  # the broadcast takes milliseconds; a busy machine, longer
        while time.monotonic() < deadline and (not seen or seen[-1] == "12.50"):
            seen.append(price(b))
            time.sleep(0.05)
        return price(a), seen


def test_without_the_broadcast_another_process_serves_the_old_price(two_processes):
    price_a, seen_by_b = prices_seen_by_b_after_a_write(two_processes, broadcast=False)
    assert price_a == "13.75", "A, which wrote, serves the new price"
    assert set(seen_by_b) == {"12.50"}, "B serves the old price from its own memory, for as long as its TTL"


def test_with_the_broadcast_another_process_serves_the_new_price(two_processes):
    price_a, seen_by_b = prices_seen_by_b_after_a_write(two_processes, broadcast=True)
    assert price_a == "13.75"
    assert seen_by_b[-1] == "13.75", f"B heard A's write and reloaded; it served {seen_by_b}"

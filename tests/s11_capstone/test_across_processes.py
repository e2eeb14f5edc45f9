"""Every guarantee that spans processes, held by three API processes of one stack.

The stack is what `make serve` runs (workbook/stack.py), with three uvicorn processes
on ports of their own: each request goes to the process the test chooses. They share
nothing but the database, Redis and the broker; on the embedded tier a SQLite file and
the embedded broker (fakeredis over TCP), with --services a fresh PostgreSQL database
and the test Redis. Each guarantee is shown by sending a request to one process and
the requests that depend on it to the others.

The processes stand behind a reverse proxy, which the test plays: the app trusts
127.0.0.1 to name the client in X-Forwarded-For. So each test's requests come from
clients of its own, and no test spends another's rate limit.
"""

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal

import httpx2
import pytest

from workbook.stack import Stack
from workbook.stages import get_stage

from ..auth_helpers import ACME, assert_refused, bearer, log_in, log_in_as_admin, me
from ..order_helpers import forwarded, order_at_once
from ..stack_tiers import new_customer, register_and_confirm, stack_on, tiers

pytestmark = pytest.mark.services

PROCESSES = 3
# A product's copy in a process's own memory outlives the test: only the broadcast can make it go.
LOCAL_CACHE_SECONDS = 60
STACK_ENV = {
    "WORKBOOK_BCRYPT_ROUNDS": "4",
    "WORKBOOK_WORKERS": str(PROCESSES),  # each process checks that all their pools fit the database
    "WORKBOOK_PRODUCT_CACHE_LOCAL_SECONDS": str(LOCAL_CACHE_SECONDS),
    # A hundred orders queue for one product's lock: none may give up waiting and answer "busy".
    "WORKBOOK_ORDER_LOCK_WAIT_SECONDS": "30",
}
# The broadcast reaches the other processes in milliseconds; the margin is for a loaded machine.
BROADCAST_BOUND_SECONDS = 2.0


def pytest_generate_tests(metafunc):
    if "stack" in metafunc.fixturenames:
        metafunc.parametrize("stack", tiers(metafunc.config), indirect=True, scope="module")


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory) -> Iterator[Stack]:
    with pytest.MonkeyPatch.context() as env:
        # In this process's environment, not the stack's extra one: the stack reads it here when it
        # starts uvicorn (--forwarded-allow-ips), and every process it starts inherits it.
        env.setenv("WORKBOOK_TRUSTED_PROXIES", json.dumps(["127.0.0.1"]))
        mailbox = tmp_path_factory.mktemp("mailbox")
        with stack_on(request.param == "services", get_stage("11"), mailbox, STACK_ENV, PROCESSES) as running:
            yield running


@contextmanager
def clients_of(stack: Stack, address: str) -> Iterator[list[httpx2.Client]]:
    """One HTTP client per API process, each speaking for the client at `address`."""
    with ExitStack() as clients:
        yield [
            clients.enter_context(httpx2.Client(base_url=url, headers={**ACME, **forwarded(address)}, timeout=30))
            for url in stack.app_urls
        ]


def refresh(client: httpx2.Client, refresh_token: str) -> httpx2.Response:
    return client.post("/token/refresh", json={"refresh_token": refresh_token})


def test_the_rate_limit_is_shared_so_the_101st_request_is_refused_by_any_process(stack, stage_app):
    limit = stage_app.module("settings").Settings().rate_limit_per_minute  # the stage's own: the stack keeps it
    for chosen in range(PROCESSES):
        # A client of its own for each process that gets the one request too many.
        with clients_of(stack, f"203.0.113.{chosen + 1}") as processes:
            answers = [processes[n % PROCESSES].get("/products/MUG-001").status_code for n in range(limit)]
            assert answers == [200] * limit, "each process saw a third of the limit, and served every request"
            refused = processes[chosen].get("/products/MUG-001")
            assert refused.status_code == 429, f"process {chosen + 1} refuses request {limit + 1}: {refused.text}"
            assert f"Rate limit of {limit} requests per minute exceeded" in refused.json()["detail"]
            assert 1 <= int(refused.headers["Retry-After"]) <= 60, "the wait is what is left of the minute"
            others = [processes[n].get("/products/MUG-001").status_code for n in range(PROCESSES) if n != chosen]
            assert others == [429] * (PROCESSES - 1), "and so do the other processes"
    with clients_of(stack, "203.0.113.9") as processes:
        assert processes[0].get("/products/MUG-001").status_code == 200, "another client is served as before"


def test_a_token_logged_out_through_one_process_is_refused_by_every_process(stack):
    with clients_of(stack, "203.0.113.21") as processes:
        a, b, c = processes
        customer = new_customer()
        register_and_confirm(a, stack.mail.directory, customer)
        pair = log_in(b, customer["email"], customer["password"])
        assert [me(api, pair["access_token"]).status_code for api in processes] == [200] * PROCESSES
        assert c.post("/logout", headers=bearer(pair["access_token"])).status_code == 204
        for api in processes:
            assert_refused(me(api, pair["access_token"]), "The token has been revoked")
        assert_refused(refresh(a, pair["refresh_token"]), "The refresh token has been revoked")


def test_a_refresh_token_replayed_on_one_process_revokes_its_family_on_every_process(stack):
    with clients_of(stack, "203.0.113.31") as processes:
        a, b, c = processes
        customer = new_customer()
        register_and_confirm(a, stack.mail.directory, customer)
        first = log_in(a, customer["email"], customer["password"])
        rotated = refresh(a, first["refresh_token"])
        assert rotated.status_code == 200, rotated.text
        newest = rotated.json()
        assert [me(api, newest["access_token"]).status_code for api in processes] == [200] * PROCESSES

        replayed = refresh(b, first["refresh_token"])
        assert_refused(replayed)
        assert "already used" in replayed.json()["detail"], "B saw the spent token come back, and said so"
        assert_refused(refresh(c, newest["refresh_token"]), "The refresh token has been revoked")
        for token in (first["access_token"], newest["access_token"]):
            for api in processes:
                assert_refused(me(api, token), "The token has been revoked")


def local_hits(client: httpx2.Client) -> int:
    """How often this process's own memory answered a product read."""
    return client.get("/health/cache").json()["products"]["local"]["hits"]


def price_of(client: httpx2.Client, sku: str) -> str:
    response = client.get(f"/products/{sku}")
    assert response.status_code == 200, response.text
    return response.json()["price"]


def test_a_price_changed_through_one_process_is_served_by_every_process(stack):
    import redis  # here, as in tests/conftest.py: only a test that speaks to Redis imports its client

    sku, key = "TEE-002", "product:acme:TEE-002"  # a product no other test here reads
    with clients_of(stack, "203.0.113.41") as processes, redis.Redis.from_url(stack.redis_url) as shared:
        hits_before = [local_hits(api) for api in processes]
        old = [price_of(api, sku) for api in processes for _ in range(2)]
        assert len(set(old)) == 1, f"every process serves the same price: {old}"
        from_memory = [local_hits(api) - before for api, before in zip(processes, hits_before, strict=True)]
        assert from_memory == [1] * PROCESSES, "each process answered the second read from its own memory"
        assert shared.exists(key), "and the copy every process shares is in Redis"

        admin = bearer(log_in_as_admin(processes[0])["access_token"])
        product = processes[0].get(f"/products/{sku}").json()
        new_price = str(Decimal(product["price"]) + Decimal("1.25"))
        changes = {"name": product["name"], "price": new_price, "stock": product["stock"]}
        changed = processes[0].put(f"/admin/products/{sku}", json=changes, headers=admin)
        assert changed.status_code == 200, changed.text
        written = time.monotonic()

        seen_after: list[float | None] = [None] * PROCESSES
        # Long enough to tell a late broadcast from none, and still far from the copies' own expiry.
        while None in seen_after and time.monotonic() - written < 5 * BROADCAST_BOUND_SECONDS:
            for n, api in enumerate(processes):
                if seen_after[n] is None and price_of(api, sku) == new_price:
                    seen_after[n] = time.monotonic() - written
            time.sleep(0.005)
    assert None not in seen_after, f"every process serves {new_price} long before its own copy expires: {seen_after}"
    slowest = max(t for t in seen_after if t is not None)
    assert slowest < BROADCAST_BOUND_SECONDS, (
        f"every process dropped its copy within {BROADCAST_BOUND_SECONDS} s of the write"
        f" (its own expiry is {LOCAL_CACHE_SECONDS} s away): {seen_after}"
    )


def test_a_hundred_orders_over_the_processes_sell_exactly_the_stock(stack):
    assert stack.payments is not None, "the stack runs the payment provider"
    charges_before = stack.payments.charges_made
    customers = [f"203.0.113.{51 + n}" for n in range(PROCESSES)]  # about a third of the orders each
    statuses, refusals, left = asyncio.run(
        order_at_once(stack.app_urls, 100, "MUG-001", stock=10, forwarded_for=customers)
    )
    assert statuses == {201: 10, 409: 90}, f"ten sold, ninety refused, over {PROCESSES} processes: {statuses}"
    assert left == 0, "the stock is at zero"
    assert stack.payments.charges_made - charges_before == 10, "ten charges for ten mugs"
    assert {refusal["detail"] for refusal in refusals} == {"Not enough stock of 'MUG-001': 1 asked, 0 left"}

"""The app's one HTTP client: made at start-up with explicit limits and timeouts, shared by
every request, closed at shutdown; and what a client per request costs instead, measured.

They run against every stage whose API takes payments, each stage's app and modules in turn.
"""

import asyncio
import time
from contextlib import contextmanager

import httpx2

from workbook import client_bench
from workbook.stages import get_stage

from .payment_helpers import CARD, logged_in_ada, pay
from .stage_apps import stage_app_fixture

stage_app = stage_app_fixture("/payments")


def test_the_client_is_made_once_shared_by_every_request_and_closed_at_shutdown(provider, auth_env, stage_app):
    with contextmanager(stage_app.serve)() as shop:
        client = shop.app_state["http"]
        headers = logged_in_ada(shop)
        for number in range(3):
            assert pay(shop, headers, f"order-000{number}").status_code == 201
            assert shop.app_state["http"] is client
        assert not client.is_closed
        assert provider.charges_made == 3
        assert provider.connections == 1, "the three charges went over one kept-alive connection"
    assert client.is_closed, "the lifespan closed it when the app stopped"


def test_the_client_has_explicit_timeouts_from_the_settings(stage_app):
    create_http_client, settings = stage_app.module("outbound").create_http_client, stage_app.module("settings")
    client = create_http_client(settings.Settings(http_timeout_seconds=3, http_connect_timeout_seconds=0.5))
    assert client.timeout == httpx2.Timeout(3, connect=0.5)


def test_the_connection_limit_holds_however_many_calls_wait(provider, stage_app):
    """Five concurrent calls through a client allowed one connection: one opened, and they took turns."""
    create_http_client, settings_module = stage_app.module("outbound").create_http_client, stage_app.module("settings")
    provider.latency = 0.2  # before every answer

    async def five_at_once(limit: int) -> float:
        settings = settings_module.Settings(http_ca_file=provider.ca_file, http_max_connections=limit)
        async with create_http_client(settings) as client:
            started = time.perf_counter()
            calls = (
                client.post(f"{provider.url}/v1/charges", json=CARD, headers={"Idempotency-Key": f"{limit}-{number}"})
                for number in range(5)
            )
            for response in await asyncio.gather(*calls):
                response.raise_for_status()
            return time.perf_counter() - started

    seconds = asyncio.run(five_at_once(limit=1))
    assert provider.connections == 1
    assert seconds >= 5 * provider.latency, "one connection: each call waited for the one before"
    provider.reset()
    asyncio.run(five_at_once(limit=5))
    assert provider.connections == 5, "allowed five, the pool opened one per waiting call"


def test_a_client_per_request_opens_a_connection_per_call_and_is_slower(stage_app):
    rows = asyncio.run(client_bench.measure(get_stage(stage_app.number), calls=10))
    fresh, kept = rows
    assert (fresh.variant, kept.variant) == (client_bench.PER_REQUEST, client_bench.SHARED)
    assert fresh.connections == 10 and kept.connections == 1, "a TLS handshake per call, against one in all"
    # Measured alternately, so a busy machine slows both alike; each fresh call also
    # builds its TLS context and shakes hands, which took several times a reused call.
    assert fresh.median_seconds > 2 * kept.median_seconds, client_bench.table(rows)
    assert "opened 10 connections to its 1" in client_bench.table(rows)

"""The connection pool: sized from the settings, watched through its events, and failing fast with 503.

They run against every stage whose API reports on its pool, each stage's app in turn.
"""

import asyncio
import threading
import time

import pytest
from prometheus_client import REGISTRY, Gauge
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import create_async_engine

from .auth_helpers import ACME
from .scaling_fixtures import holding_every_connection
from .stage_apps import StageApp, stage_app_fixture

stage_app = stage_app_fixture("/health/pool")

POOL_TIMEOUT = 0.5  # what pool_env sets


def test_the_settings_size_the_pool(small_pool_client):
    pool = small_pool_client.app_state["pool"].engine.pool
    assert (pool.size(), pool.timeout()) == (1, POOL_TIMEOUT)


@pytest.mark.services
def test_health_pool_counts_what_requests_check_out(small_pool_client):
    before = small_pool_client.get("/health/pool").json()
    assert small_pool_client.get("/products", headers=ACME).status_code == 200
    after = small_pool_client.get("/health/pool").json()
    assert after["checkouts_total"] > before["checkouts_total"], "GET /products took a connection"
    assert after["checked_out"] == 0, "and gave it back"
    assert after["connects_total"] >= 1


@pytest.mark.services
def test_an_exhausted_pool_answers_503_with_retry_after_within_about_pool_timeout(small_pool_client):
    with holding_every_connection(small_pool_client):
        started = time.monotonic()
        response = small_pool_client.get("/products", headers=ACME)
        waited = time.monotonic() - started
        health = small_pool_client.get("/health/pool").json()  # takes no connection: answers now too
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    # At least the pool_timeout; far less than SQLAlchemy's default 30 s (wide margin: a busy machine).
    assert POOL_TIMEOUT * 0.9 <= waited < 10, f"waited {waited:.2f} s for a {POOL_TIMEOUT} s pool_timeout"
    assert health["checked_out"] == 1 and health["longest_checkout_holder"] is None, "held outside any request"
    assert small_pool_client.get("/products", headers=ACME).status_code == 200, "served again once they are back"


def get_products(client, answers: list) -> None:
    answers.append(client.get("/products", headers=ACME))


def hold_in_request(client, stage_app: StageApp, release: threading.Event, holding: threading.Event) -> None:
    """GET /products holds its session's connection until `release` is set."""
    dependencies = stage_app.module("dependencies")
    repository = stage_app.module("product_repository").SqlAlchemyProductRepository

    def holding_repository(session: dependencies.SessionDep):
        session.connection()  # checks a connection out of the pool
        holding.set()
        release.wait(10)
        return repository(session)

    client.app.dependency_overrides[dependencies.get_product_repository] = holding_repository


@pytest.mark.services
def test_health_pool_names_the_request_that_holds_the_longest_checkout(small_pool_client, stage_app):
    release, holding = threading.Event(), threading.Event()
    hold_in_request(small_pool_client, stage_app, release, holding)
    answers = []
    slow = threading.Thread(target=get_products, args=(small_pool_client, answers))
    slow.start()
    try:
        assert holding.wait(10), "the slow request never checked a connection out"
        time.sleep(0.2)
        health = small_pool_client.get("/health/pool").json()
        metrics = small_pool_client.get("/metrics").text
    finally:
        release.set()
        slow.join(10)
    assert health["checked_out"] == 1
    assert health["longest_checkout_holder"] == "GET /products"
    assert health["longest_checkout_seconds"] >= 0.15, health
    assert "storefront_db_pool_checked_out 1.0" in metrics
    assert answers[0].status_code == 200, "the slow request itself still succeeds"


@pytest.mark.services
def test_a_request_waiting_for_a_connection_is_counted_and_gets_the_one_given_back(pool_env, stage_app, monkeypatch):
    monkeypatch.setenv("WORKBOOK_POOL_TIMEOUT", "10")  # long enough to watch it wait
    for client in stage_app.serve():
        answers = []
        with holding_every_connection(client):
            waiter = threading.Thread(target=get_products, args=(client, answers))
            waiter.start()
            deadline = time.monotonic() + 8
            while client.get("/health/pool").json()["waiting"] != 1 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert client.get("/health/pool").json()["waiting"] == 1, "the request waits for a connection"
        waiter.join(10)  # the connection is back: the waiter takes it
        assert answers[0].status_code == 200
        assert client.get("/health/pool").json()["waiting"] == 0


@pytest.mark.services
def test_an_invalidated_connection_is_counted(small_pool_client):
    with small_pool_client.app_state["pool"].engine.connect() as connection:
        connection.invalidate()
    assert small_pool_client.get("/health/pool").json()["invalidations_total"] == 1


def test_pool_events_on_an_async_engine_raise_so_the_watch_listens_on_its_sync_engine(stage_app):
    engine = create_async_engine("sqlite+aiosqlite://")
    # The pitfall: an AsyncEngine has no events of its own.
    with pytest.raises(NotImplementedError, match="sync_engine"):
        event.listen(engine, "checkout", lambda *args: None)
    watch = stage_app.module("pool_watch").PoolWatch(engine, size=5, max_overflow=10)
    assert watch.engine is engine.sync_engine

    async def query() -> None:
        async with engine.connect() as connection:
            await connection.execute(select(1))
        await engine.dispose()

    asyncio.run(query())
    assert watch.health().checkouts_total == 1, "the checkout through the AsyncEngine was seen"


def test_each_app_has_its_own_metrics_registry(small_pool_client, stage_app):
    watch = small_pool_client.app_state["pool"]
    metrics_registry = stage_app.module("metrics").metrics_registry
    first, second = metrics_registry(watch), metrics_registry(watch)
    assert first.get_sample_value("storefront_db_pool_size") == second.get_sample_value("storefront_db_pool_size")
    # The global registry is one per process: a second metric of the same name is refused.
    once = Gauge("storefront_example_gauge", "registered once", registry=REGISTRY)
    try:
        with pytest.raises(ValueError, match="Duplicated timeseries"):
            Gauge("storefront_example_gauge", "registered twice", registry=REGISTRY)
    finally:
        REGISTRY.unregister(once)

"""GET /products/{sku} through the tiered cache, in the running app (PostgreSQL and Redis with --services).

They run against every stage whose API reports on its cache, each stage's app in turn.
"""

import asyncio
import time
from collections.abc import Iterator

import httpx2
import pytest
from sqlalchemy import Engine, event
from structlog.testing import capture_logs

from workbook.serving import free_port

from .auth_helpers import ACME, GLOBEX, bearer
from .stage_apps import run_redis, stage_app_fixture, stage_params

stage_app = stage_app_fixture("/health/cache")

pytestmark = pytest.mark.services

NEW_MUG = {"name": "Enamel mug, blue", "price": "13.75", "stock": 7}


def is_product_lookup(statement: str) -> bool:
    return statement.lstrip().startswith("SELECT") and "products.sku = " in statement


@pytest.fixture
def product_queries() -> Iterator[list[str]]:
    """Every query for one product by its SKU while the test runs, from any engine."""
    sent: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany) -> None:
        if is_product_lookup(statement):
            sent.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield sent
    event.remove(Engine, "before_cursor_execute", record)


@pytest.fixture
def slow_product_queries() -> Iterator[None]:
    """Each products query takes a quarter of a second more: long enough for every concurrent reader to arrive."""

    def stall(connection, cursor, statement, parameters, context, executemany) -> None:
        if is_product_lookup(statement):
            time.sleep(0.25)  # in the thread pool's thread, holding its connection, as a slow query does

    event.listen(Engine, "before_cursor_execute", stall)
    yield
    event.remove(Engine, "before_cursor_execute", stall)


def mug(client, headers=ACME) -> dict:
    response = client.get("/products/MUG-001", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_product_read_three_times_is_queried_once(client, product_queries):
    assert [mug(client)["price"] for _ in range(3)] == ["12.50"] * 3
    assert len(product_queries) == 1, "the first read fills the tiers, the next two come from this process's LRU"
    tiers = client.get("/health/cache").json()["products"]
    assert (tiers["local"]["hits"], tiers["local"]["misses"]) == (2, 1)
    assert (tiers["redis"]["misses"], tiers["database"]["hits"]) == (1, 1)
    assert tiers["local"]["hit_ratio"] == round(2 / 3, 3)


def test_redis_holds_the_product_as_json_under_a_key_with_the_tenant(client, stage_app):
    product_key = stage_app.module("product_cache").product_key
    mug(client)
    stored = run_redis(client, "get", product_key("acme", "MUG-001"))
    assert stored == '{"sku":"MUG-001","name":"Enamel mug","price":"12.50","stock":40}'
    assert run_redis(client, "get", product_key("globex", "MUG-001")) is None, "acme's mug is not globex's"
    assert client.get("/products/MUG-001", headers=GLOBEX).status_code == 404


def test_an_admin_write_is_read_back_at_once(client, admin, stage_app, product_queries):
    product_key = stage_app.module("product_cache").product_key
    assert mug(client)["price"] == "12.50"
    response = client.put("/admin/products/MUG-001", json=NEW_MUG, headers=bearer(admin["access_token"]))
    assert response.status_code == 200, response.text
    assert mug(client) == {"sku": "MUG-001", **NEW_MUG}, "the write cleared this process's copy and Redis's"
    assert run_redis(client, "get", product_key("acme", "MUG-001") + ":version") == "1"


def test_an_unknown_sku_is_404_and_not_cached(client, product_queries):
    for _ in range(2):
        assert client.get("/products/NOPE-999", headers=ACME).status_code == 404
    assert len(product_queries) == 2, "a product that does not exist yet is asked for again"


def test_switched_off_every_read_queries_the_database(client_without_cache, product_queries):
    for _ in range(3):
        mug(client_without_cache)
    assert len(product_queries) == 3


@pytest.fixture
def client_without_cache(auth_env, stage_app, monkeypatch):
    monkeypatch.setenv("WORKBOOK_PRODUCT_CACHE_ENABLED", "false")
    yield from stage_app.serve()


def hundred_concurrent_reads(stage_app) -> list[dict]:
    async def fire(url: str) -> list[dict]:
        async with httpx2.AsyncClient(base_url=url, timeout=60) as http:
            responses = await asyncio.gather(*(http.get("/products/TEE-002", headers=ACME) for _ in range(100)))
        assert {response.status_code for response in responses} == {200}, responses[0].text
        return [response.json() for response in responses]

    with stage_app.running() as url:
        return asyncio.run(fire(url))


@pytest.fixture
def served(auth_env, monkeypatch, tmp_path, services):
    """The stage served by uvicorn on a real socket, its rate limit out of the way of a hundred reads."""
    monkeypatch.setenv("WORKBOOK_RATE_LIMIT_PER_MINUTE", "10000")
    if not services:  # a file, so concurrent sessions get connections of their own
        monkeypatch.setenv("WORKBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")


def test_a_hundred_concurrent_reads_of_a_cold_product_make_one_query(
    served, stage_app, product_queries, slow_product_queries
):
    products = hundred_concurrent_reads(stage_app)
    assert all(product == products[0] for product in products), "every reader got the same product"
    assert len(product_queries) == 1, f"100 concurrent cold reads should make ONE query, made {len(product_queries)}"


def test_without_the_cache_the_same_hundred_reads_make_a_hundred_queries(
    served, stage_app, monkeypatch, product_queries, slow_product_queries
):
    monkeypatch.setenv("WORKBOOK_PRODUCT_CACHE_ENABLED", "false")
    hundred_concurrent_reads(stage_app)
    assert len(product_queries) == 100, "what single flight saves: every reader queries"


@pytest.fixture
def client_without_redis(auth_env, stage_app, monkeypatch):
    monkeypatch.setenv("WORKBOOK_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    yield from stage_app.serve()


def test_with_redis_down_products_are_served_from_the_database_with_a_log_line(client_without_redis, product_queries):
    with capture_logs() as logs:  # once the app has started: its lifespan sets up logging afresh
        prices = [mug(client_without_redis)["price"] for _ in range(2)]
    assert prices == ["12.50"] * 2, "Redis down: slower, never a 500"
    assert len(product_queries) == 1, "the local tier still works: the second read is a hit"
    events = {(entry["event"], entry.get("action")) for entry in logs}
    assert ("cache.redis_unavailable", "read") in events, "the cache says why it went to the database"
    assert ("rate_limit.redis_unavailable", None) in events, "and the rate limit why it let the request through"


@pytest.mark.parametrize("stage_app", stage_params("/health/cache", modules=["cache_latency"]), indirect=True)
def test_each_tier_is_timed_and_a_local_hit_is_far_faster_than_the_others(client, stage_app):
    measure_product_tiers = stage_app.module("cache_latency").measure_product_tiers
    tiers = client.portal.call(
        measure_product_tiers, client.app_state["product_caches"], client.app_state["tenants"].get("acme"), "MUG-001"
    )
    assert tiers.reads == 200
    # Medians of 200 reads each: a dict lookup against a round trip, with a wide margin for a busy machine.
    assert tiers.local_ms * 5 < tiers.redis_ms, f"a local hit should be at least 5× faster than Redis: {tiers}"
    assert tiers.local_ms * 5 < tiers.database_ms, f"and than the database: {tiers}"
    assert len(tiers.lines()) == 3

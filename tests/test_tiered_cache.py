"""The tiered cache on its own, in front of a counting stand-in for the database (real Redis with --services).

They run against the tiered_cache.py of every stage whose API reports on its cache.
"""

import asyncio
from collections.abc import Callable
from contextlib import AsyncExitStack
from types import ModuleType

import pytest
from fakeredis import FakeAsyncRedis, FakeServer
from pydantic import BaseModel, TypeAdapter
from structlog.testing import capture_logs

from .stage_apps import stage_app_fixture

stage_app = stage_app_fixture("/health/cache")

pytestmark = pytest.mark.services

KEY = "product:acme:MUG-001"


class Item(BaseModel):
    sku: str
    price_cents: int


class Database:
    """Stands in for the product table: counts its loads, and can take its time answering."""

    def __init__(self, price_cents: int = 1250, delay: float = 0.0) -> None:
        self.price_cents = price_cents
        self.delay = delay
        self.loads = 0

    async def load(self) -> Item:
        self.loads += 1
        row = Item(sku="MUG-001", price_cents=self.price_cents)  # what the query read...
        await asyncio.sleep(self.delay)  # ...arrives a round trip later: where concurrent readers pile up
        return row


@pytest.fixture
def tiered(stage_app) -> ModuleType:
    """The stage's tiered_cache module."""
    return stage_app.module("tiered_cache")


@pytest.fixture
def create_redis(stage_app) -> Callable:
    """The stage's own way to make a Redis client from a URL."""
    return stage_app.module("redis_client").create_redis


@pytest.fixture
def listener(stage_app) -> Callable:
    """The stage's invalidation listener: drops a cache's local copies when another process writes."""
    return stage_app.module("cache_invalidation").invalidation_listener


@pytest.fixture
def new_cache(tiered) -> Callable:
    """new_cache(redis, **options): a TieredCache of Items on that Redis, roomy and long-lived unless told."""

    def new(redis, **options):
        settings = {"local_size": 100, "local_seconds": 60.0, "redis_seconds": 60.0} | options
        return tiered.TieredCache(redis, TypeAdapter(Item), **settings)

    return new


@pytest.fixture
def run(redis_url, create_redis) -> Callable:
    """run(scenario) runs `scenario(connect)`; each connect() is one more client of the same Redis,
    as each process has its own."""

    def run_scenario(scenario):
        server = FakeServer()  # the embedded default: one in-memory server the clients share
        clients = []

        def connect():
            client = create_redis(redis_url) if redis_url else FakeAsyncRedis(server=server, decode_responses=True)
            clients.append(client)
            return client

        async def main():
            try:
                return await scenario(connect)
            finally:
                for client in clients:
                    await client.aclose()

        return asyncio.run(main())

    return run_scenario


def answered_by(cache) -> dict[str, int]:
    return {tier: stats.hits for tier, stats in cache.stats.items()}


def test_a_read_tries_the_local_tier_then_redis_then_the_database(run, new_cache):
    async def scenario(connect):
        redis = connect()
        cache, db = new_cache(redis), Database()
        seen = [await cache.get(KEY, db.load)]  # cold: the database answers and fills both tiers
        seen.append(await cache.get(KEY, db.load))  # the local tier answers
        cache.forget_local(KEY)
        seen.append(await cache.get(KEY, db.load))  # Redis answers, and fills the local tier again
        seen.append(await cache.get(KEY, db.load))
        return seen, db.loads, answered_by(cache), await redis.get(KEY)

    seen, loads, hits, stored = run(scenario)
    assert [item.price_cents for item in seen] == [1250] * 4
    assert loads == 1, "only the first read reaches the database"
    assert hits == {"local": 2, "redis": 1, "database": 1}, "second and fourth reads local, third from Redis"
    assert TypeAdapter(Item).validate_json(stored) == seen[0], "Redis holds the value as JSON"


def test_each_tier_forgets_when_its_ttl_ends(run, new_cache):
    async def scenario(connect):
        redis = connect()
        cache, db = new_cache(redis, local_seconds=0.2, redis_seconds=0.6), Database()
        await cache.get(KEY, db.load)
        await asyncio.sleep(0.3)  # past the local TTL, within Redis's
        await cache.get(KEY, db.load)
        after_local_expiry = db.loads, answered_by(cache)["redis"]
        await asyncio.sleep(0.7)  # past both
        cache.forget_local(KEY)  # the local copy was refilled at 0.3 s; only Redis's expiry is tested here
        await cache.get(KEY, db.load)
        return after_local_expiry, db.loads

    after_local_expiry, loads = run(scenario)
    assert after_local_expiry == (1, 1), "after the local TTL, Redis answers without a query"
    assert loads == 2, "after Redis's TTL too, the database is asked again"


def test_a_hundred_concurrent_reads_of_a_cold_key_make_one_load(run, new_cache):
    async def scenario(connect):
        redis = connect()
        cache, db = new_cache(redis), Database(delay=0.05)
        items = await asyncio.gather(*(cache.get(KEY, db.load) for _ in range(100)))
        return items, db.loads, cache.stats["redis"].misses

    items, loads, redis_lookups = run(scenario)
    assert len(items) == 100 and all(item == items[0] for item in items), "every reader gets the same product"
    assert loads == 1, f"100 concurrent misses should make ONE database load, made {loads}"
    assert redis_lookups == 1, "and one Redis lookup: the waiters join the load that is already running"


def test_single_flight_is_per_key(run, new_cache):
    async def scenario(connect):
        redis = connect()
        cache, db = new_cache(redis), Database(delay=0.05)
        keys = [f"product:acme:SKU-{n}" for n in range(5)]
        await asyncio.gather(*(cache.get(key, db.load) for key in keys * 20))
        return db.loads

    assert run(scenario) == 5, "five cold keys, twenty readers each: one load per key"


def test_a_reader_that_gives_up_does_not_cancel_the_load_the_others_wait_for(run, new_cache):
    async def scenario(connect):
        redis = connect()
        cache, db = new_cache(redis), Database(delay=0.1)
        impatient = asyncio.ensure_future(cache.get(KEY, db.load))
        patient = asyncio.ensure_future(cache.get(KEY, db.load))
        await asyncio.sleep(0.02)
        impatient.cancel()  # its client hung up
        return await patient, impatient.cancelled(), db.loads

    item, cancelled, loads = run(scenario)
    assert cancelled and item.price_cents == 1250 and loads == 1


def test_a_load_that_raced_a_write_does_not_put_the_old_value_back(run, new_cache, tiered):
    async def scenario(connect):
        redis = connect()
        cache, db = new_cache(redis), Database(delay=0.1)
        reading = asyncio.ensure_future(cache.get(KEY, db.load))  # reads the old row...
        await asyncio.sleep(0.02)
        db.price_cents = 999  # ...while a write commits,
        await cache.invalidate(KEY)  # and invalidates before the read has finished
        old = await reading
        stored = await redis.get(KEY), KEY in cache.local
        fresh = await cache.get(KEY, db.load)
        return old, stored, fresh, await redis.get(tiered.version_key(KEY))

    old, stored, fresh, version = run(scenario)
    assert old.price_cents == 1250, "the racing read answers what it read, as it would without a cache"
    assert stored == (None, False), "but neither Redis nor the local tier keeps it: the version moved on"
    assert fresh.price_cents == 999, "the next read loads the new price"
    assert version == "1"


def price_another_process_reads_after_a_write(run, new_cache, listener, listening: bool) -> int:
    """Two caches on two clients of one Redis, as two processes have: one writes, the other then reads."""

    async def scenario(connect):
        redis, other = connect(), connect()
        writer, reader, db = new_cache(redis), new_cache(other), Database()
        async with AsyncExitStack() as stack:
            if listening:
                await stack.enter_async_context(listener(other, [reader]))
            await reader.get(KEY, db.load)
            assert KEY in reader.local, "the reader holds the old price in its local tier"
            db.price_cents = 999
            await writer.invalidate(KEY)
            for _ in range(20):  # the broadcast arrives within moments; allow a busy machine a second
                if KEY not in reader.local:
                    break
                await asyncio.sleep(0.05)
            return (await reader.get(KEY, db.load)).price_cents

    return run(scenario)


def test_without_the_broadcast_another_process_serves_the_old_price(run, new_cache, listener):
    assert price_another_process_reads_after_a_write(run, new_cache, listener, listening=False) == 1250, (
        "a local tier that hears nothing keeps the old price until its TTL, though Redis was cleared"
    )


def test_with_the_broadcast_another_process_serves_the_new_price(run, new_cache, listener):
    assert price_another_process_reads_after_a_write(run, new_cache, listener, listening=True) == 999, (
        "the other process heard the write, dropped its copy and loaded the new price"
    )


def test_with_redis_down_reads_come_from_the_database_with_a_log_line(run, new_cache, create_redis):
    async def scenario(connect):
        cache, db = new_cache(create_redis("redis://127.0.0.1:1/0")), Database()  # nothing listens on port 1
        with capture_logs() as logs:
            first = await cache.get(KEY, db.load)
            cache.forget_local(KEY)
            second = await cache.get(KEY, db.load)
            await cache.invalidate(KEY)
        await cache.redis.aclose()
        return [first, second], db.loads, logs

    items, loads, logs = run(scenario)
    assert [item.price_cents for item in items] == [1250, 1250], "Redis down is slower, never an error"
    assert loads == 2, "each read the local tier could not answer went to the database"
    events = {(entry["event"], entry["action"]) for entry in logs}
    assert ("cache.redis_unavailable", "read") in events, "the failed read is logged"
    assert ("cache.redis_unavailable", "invalidate") in events, "and so is the failed invalidation"


def test_switched_off_every_read_is_a_load(run, new_cache):
    async def scenario(connect):
        redis = connect()
        cache, db = new_cache(redis, enabled=False), Database()
        for _ in range(3):
            await cache.get(KEY, db.load)
        return db.loads, await redis.exists(KEY)

    assert run(scenario) == (3, 0)

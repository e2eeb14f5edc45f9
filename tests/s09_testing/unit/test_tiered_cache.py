"""The tiered cache in front of a counting stand-in for the database, on fakeredis.

Async tests run under anyio's pytest plugin (`pytest.mark.anyio`, on asyncio):
the test is a coroutine and awaits the cache directly. fakeredis is a Redis in
this process's memory with the real client's API; the integration tests run the
product cache on real Redis too.
"""

import asyncio

import pytest
from fakeredis import FakeAsyncRedis, FakeServer
from pydantic import TypeAdapter
from redis.exceptions import ConnectionError as RedisConnectionError

from lessons.s09_testing.product_schemas import ProductOut
from lessons.s09_testing.tiered_cache import TieredCache

pytestmark = [pytest.mark.unit, pytest.mark.anyio]

KEY = "product:acme:MUG-001"
MUG = ProductOut(sku="MUG-001", name="Enamel mug", price="12.50", stock=40)


class CountingDatabase:
    """Answers the mug after `delay` seconds, and counts how often it was asked."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.loads = 0

    async def load(self) -> ProductOut:
        self.loads += 1
        await asyncio.sleep(self.delay)
        return MUG


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def redis():
    client = FakeAsyncRedis(decode_responses=True)
    yield client
    await client.aclose()


def new_cache(redis) -> TieredCache[ProductOut]:
    return TieredCache(redis, TypeAdapter(ProductOut), local_size=10, local_seconds=60, redis_seconds=60)


async def test_a_second_read_is_answered_from_memory(redis):
    cache, database = new_cache(redis), CountingDatabase()
    assert await cache.get(KEY, database.load) == await cache.get(KEY, database.load) == MUG
    assert database.loads == 1
    assert cache.summary()["local"]["hits"] == 1


async def test_concurrent_misses_of_one_key_make_one_load(redis):
    cache, database = new_cache(redis), CountingDatabase(delay=0.05)
    answers = await asyncio.gather(*(cache.get(KEY, database.load) for _ in range(20)))
    assert answers == [MUG] * 20
    assert database.loads == 1, "the readers that arrived during the load waited for it"


async def test_after_an_invalidation_the_next_read_loads_again(redis):
    cache, database = new_cache(redis), CountingDatabase()
    await cache.get(KEY, database.load)
    await cache.invalidate(KEY)
    await cache.get(KEY, database.load)
    assert database.loads == 2


async def test_a_cache_without_redis_still_answers_from_the_database():
    server = FakeServer()
    server.connected = False  # fakeredis's switch: every command to this server raises ConnectionError
    broken = FakeAsyncRedis(server=server, decode_responses=True)
    cache, database = new_cache(broken), CountingDatabase()
    with pytest.raises(RedisConnectionError):
        await broken.get(KEY)
    assert await cache.get(KEY, database.load) == MUG
    assert database.loads == 1

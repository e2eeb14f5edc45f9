"""Tiered caching: this process's memory, then Redis, then the database.

    tier      where                          a lookup costs        it forgets a value when
    local     an LRU in this process         a dict lookup         its TTL ends, or a write is broadcast
    redis     one server, every process      a network round trip  its TTL ends, or a writer deletes it
    database  the source of truth            a query               -

A read asks each tier in turn and fills the faster tiers with what a slower one
answered. Three things make it safe to put in front of a database:

- One load per cold key (single flight). The first reader of a missing key starts
  ONE load; readers arriving meanwhile wait for that load instead of starting
  their own, so a hundred concurrent misses make one query, not a hundred. This
  holds within a process: N processes make at most N loads of the same key.
- Writes win. `invalidate` bumps the key's version in Redis and deletes its value
  in one transaction; a reader stores what it loaded only if the version is still
  the one it saw before loading (a Lua script checks and sets in one step), so a
  load that raced a write cannot put the old value back into Redis. The other
  processes' local tiers hear of the write through pub/sub (cache_invalidation.py).
- Redis is optional. When it fails, a read logs why and goes to the database:
  slower, never a 500.
"""

import asyncio
import statistics
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Generic, TypeVar

import structlog
from cachetools import TTLCache
from pydantic import TypeAdapter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from .cache_invalidation import publish_invalidation

T = TypeVar("T")
R = TypeVar("R")

# KEYS[1] is the version, KEYS[2] the value. A key never written has version "0".
STORE_IF_UNCHANGED = """
if (redis.call('GET', KEYS[1]) or '0') == ARGV[1] then
    redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
    return 1
end
return 0
"""
# How many recent lookups each tier's median latency is taken over.
SAMPLES = 1000

log = structlog.get_logger()


def version_key(key: str) -> str:
    return f"{key}:version"


@dataclass
class TierStats:
    """How often one tier answered, and how long it took to answer (or not)."""

    hits: int = 0
    misses: int = 0
    seconds: deque[float] = field(default_factory=lambda: deque(maxlen=SAMPLES))

    def record(self, hit: bool, started: float) -> None:
        self.seconds.append(time.perf_counter() - started)
        self.hits += hit
        self.misses += not hit

    def summary(self) -> dict[str, float | int | None]:
        looked = self.hits + self.misses
        return {
            "hits": self.hits,
            "misses": self.misses,
            "hit_ratio": round(self.hits / looked, 3) if looked else None,
            "median_ms": round(statistics.median(self.seconds) * 1000, 4) if self.seconds else None,
        }


class TieredCache(Generic[T]):
    """Values of type T by key, in three tiers. `load` reads the database: it answers T, or None for "none"."""

    def __init__(
        self,
        redis: Redis,
        adapter: TypeAdapter[T],
        *,
        local_size: int,
        local_seconds: float,
        redis_seconds: float,
        enabled: bool = True,
    ) -> None:
        self.redis = redis
        self.adapter = adapter  # turns T into JSON for Redis, and back
        self.local: TTLCache[str, T] = TTLCache(maxsize=local_size, ttl=local_seconds)
        self.redis_ms = max(1, round(redis_seconds * 1000))
        self.enabled = enabled
        self.stats = {tier: TierStats() for tier in ("local", "redis", "database")}
        self._flights: dict[str, asyncio.Future[T | None]] = {}

    async def get(self, key: str, load: Callable[[], Awaitable[T | None]]) -> T | None:
        if not self.enabled:
            return await load()
        started = time.perf_counter()
        value = self.local.get(key)
        self.stats["local"].record(value is not None, started)
        if value is not None:
            return value
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(self._fill(key, load))
            self._flights[key] = flight
            # Registered before any waiter's callback, so the local tier is filled first.
            flight.add_done_callback(partial(self._land, key))
        # shield: a reader whose client hangs up is cancelled; the load the others wait for is not.
        return await asyncio.shield(flight)

    async def _fill(self, key: str, load: Callable[[], Awaitable[T | None]]) -> T | None:
        started = time.perf_counter()
        # One round trip for both: the value, and (for a miss) the version it is checked against later.
        found = await self._redis("read", key, self.redis.mget(key, version_key(key)))
        self.stats["redis"].record(bool(found and found[0] is not None), started)
        if found and found[0] is not None:
            return self.adapter.validate_json(found[0])
        started = time.perf_counter()
        value = await load()
        self.stats["database"].record(value is not None, started)
        if value is not None and found is not None:
            version = found[1] or "0"
            store = self.redis.eval(
                STORE_IF_UNCHANGED, 2, version_key(key), key, version, self.adapter.dump_json(value), self.redis_ms
            )
            await self._redis("store", key, store)
        return value

    def _land(self, key: str, flight: asyncio.Future[T | None]) -> None:
        """A load finished: keep its value here, unless a write made it stale meanwhile (see `forget_local`)."""
        if self._flights.get(key) is not flight:
            return
        del self._flights[key]
        if not flight.cancelled() and flight.exception() is None and (value := flight.result()) is not None:
            self.local[key] = value

    async def invalidate(self, key: str) -> None:
        """Call after the write has COMMITTED: every tier forgets the key, in every process."""
        self.forget_local(key)
        async with self.redis.pipeline(transaction=True) as transaction:
            # MULTI/EXEC: no reader sees the new version beside the old value.
            transaction.incr(version_key(key))
            transaction.delete(key)
            await self._redis("invalidate", key, transaction.execute())
        await self._redis("broadcast", key, publish_invalidation(self.redis, key))

    def forget_local(self, key: str) -> None:
        """Drop the key from this process's tier. A load still running for it may have read
        the old row: dropping its flight keeps its answer out of this tier, and the next
        reader starts a fresh load."""
        self.local.pop(key, None)
        self._flights.pop(key, None)

    def forget_all_local(self) -> None:
        """Drop everything this process holds: for when broadcasts may have been missed."""
        self.local.clear()
        self._flights.clear()

    async def _redis(self, action: str, key: str, command: Awaitable[R]) -> R | None:
        """Run one Redis command; if Redis fails, log it and answer None, so the caller goes on without it."""
        try:
            return await command
        except RedisError as error:
            log.warning("cache.redis_unavailable", action=action, key=key, error=repr(error))
            return None

    def summary(self) -> dict[str, dict[str, float | int | None]]:
        return {tier: stats.summary() for tier, stats in self.stats.items()}

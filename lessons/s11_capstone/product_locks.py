"""One Redis lock per product, so that orders for one product take their turn at the database.

The lock saves work; it does not make orders correct. The database does that
(stock.py): with every lock gone, no product is ever oversold. What the lock
prevents is a stampede: a hundred orders for one product at once would each
take a pooled connection and queue on that one row (on SQLite, on the whole
database, until some give up with "database is locked"). With the lock they
queue in Redis instead, holding nothing, and a request that cannot get its turn
within `wait_seconds` is told to come back (409 with Retry-After), not kept
hanging.

Written right, which the usual snippets are not:

- async (redis.asyncio): waiting for the lock never holds a thread;
- one lock per tenant and product, taken in SKU order, so two orders for the
  same products never each hold one and wait for the other;
- a TTL (`ttl_seconds`), so a process that dies holding a lock frees it; a
  bounded wait for all of them together (`wait_seconds`);
- released in `finally`, in an async context manager entered with `async with`.

A lock that expires before its holder is done is not an error here: the
database still decides, so the release only logs it.
"""

import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from math import ceil
from typing import Annotated

import structlog
from fastapi import Depends, HTTPException, status
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

from .dependencies import RedisDep, SettingsDep


class ProductLocks:
    def __init__(self, redis: Redis, ttl_seconds: float, wait_seconds: float) -> None:
        self.redis = redis
        self.ttl_seconds = ttl_seconds
        self.wait_seconds = wait_seconds

    @staticmethod
    def key(tenant_id: str, sku: str) -> str:
        return f"lock:product:{tenant_id}:{sku}"

    @asynccontextmanager
    async def holding(self, tenant_id: str, skus: Iterable[str]) -> AsyncIterator[None]:
        """Hold the lock of every SKU for the block, or raise 409 if that takes longer than the wait."""
        held: list[Lock] = []
        deadline = time.monotonic() + self.wait_seconds
        try:
            for sku in sorted(set(skus)):
                lock = self.redis.lock(self.key(tenant_id, sku), timeout=self.ttl_seconds)
                if not await self._acquire(lock, deadline - time.monotonic()):
                    raise HTTPException(
                        status.HTTP_409_CONFLICT,
                        f"Product {sku!r} is being ordered by many at once; retry shortly",
                        headers={"Retry-After": str(ceil(self.wait_seconds) or 1)},
                    )
                held.append(lock)
            yield
        finally:
            for lock in reversed(held):
                await self._release(lock)

    async def _acquire(self, lock: Lock, seconds_left: float) -> bool:
        try:
            return await lock.acquire(blocking_timeout=max(seconds_left, 0.0))
        except RedisError as error:
            # No Redis, no queue: go ahead. The database still decides; it only has more to do.
            structlog.get_logger().warning("product_lock.redis_unavailable", error=repr(error))
            return True

    async def _release(self, lock: Lock) -> None:
        try:
            await lock.release()
        except LockError:
            # Expired (the work outlasted ttl_seconds) and perhaps taken by another: only the
            # database kept the two apart. Raise the TTL if this is logged often.
            structlog.get_logger().warning("product_lock.expired_before_release", lock=lock.name)
        except RedisError as error:
            structlog.get_logger().warning("product_lock.redis_unavailable", error=repr(error))


def get_product_locks(redis: RedisDep, settings: SettingsDep) -> ProductLocks:
    return ProductLocks(redis, settings.order_lock_seconds, settings.order_lock_wait_seconds)


ProductLocksDep = Annotated[ProductLocks, Depends(get_product_locks)]

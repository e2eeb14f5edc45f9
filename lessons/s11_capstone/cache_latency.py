"""How long a read takes from each tier of a cache, measured rather than assumed.

Numbers quoted for caches ("sub-millisecond in memory, a few milliseconds from
Redis, tens from the database") depend on the machine, the network and the
query. `measure_tier_latency` times this app's own cache on this machine: the
median of many reads answered by each tier, so a few slow ones (a garbage
collection, a busy core) do not move it.
"""

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from fastapi.concurrency import run_in_threadpool

from .product_cache import ProductCaches, load_product, product_key
from .tenancy import Tenant
from .tiered_cache import TieredCache

T = TypeVar("T")


@dataclass(frozen=True)
class TierLatency:
    """Median milliseconds of one read answered by each tier, over `reads` reads of each."""

    local_ms: float
    redis_ms: float
    database_ms: float
    reads: int

    def lines(self) -> list[str]:
        return [
            f"local hit   {self.local_ms:.4f} ms",
            f"Redis hit   {self.redis_ms:.4f} ms  ({self.redis_ms / self.local_ms:.0f}× a local hit)",
            f"database    {self.database_ms:.4f} ms  ({self.database_ms / self.local_ms:.0f}× a local hit)",
        ]


async def _median_ms(read: Callable[[], Awaitable[object]], reads: int, before: Callable[[], None]) -> float:
    seconds = []
    for _ in range(reads):
        before()
        started = time.perf_counter()
        await read()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds) * 1000


async def measure_tier_latency(
    cache: TieredCache[T], key: str, load: Callable[[], Awaitable[T | None]], reads: int = 200
) -> TierLatency:
    """Time `reads` reads answered by each tier: the local tier, Redis (this process's
    copy dropped before each read), and the database (`load` itself, as a miss runs it)."""
    read = partial(cache.get, key, load)
    await read()  # fills Redis and the local tier
    local = await _median_ms(read, reads, before=lambda: None)
    redis = await _median_ms(read, reads, before=lambda: cache.forget_local(key))
    database = await _median_ms(load, reads, before=lambda: None)
    return TierLatency(local_ms=local, redis_ms=redis, database_ms=database, reads=reads)


async def measure_product_tiers(caches: ProductCaches, tenant: Tenant, sku: str, reads: int = 200) -> TierLatency:
    """`measure_tier_latency` on GET /products/{sku}'s own cache and query. From a test
    or a notebook: `client.portal.call(measure_product_tiers, caches, tenant, "MUG-001")`."""
    load = partial(run_in_threadpool, load_product, tenant, sku)
    return await measure_tier_latency(caches.products, product_key(tenant.id, sku), load, reads)

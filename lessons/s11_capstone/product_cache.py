"""Product reads through the tiered cache (tiered_cache.py), and the writes that clear it.

    key                       holds                               read by
    product:<tenant>:<sku>    one product                         GET /products/{sku}
    catalogue:<tenant>        every product of the tenant         GET /catalogue (an exercise)

The tenant is in every key: acme's MUG-001 is not globex's. A product write
clears every key that holds the product, in every tier and every process, once
it has committed (`ProductCaches.forget`).

An unknown SKU is not cached: each read of one asks the database (once per
process at a time, like any miss), and a product created later is seen at once.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import TypeAdapter
from redis.asyncio import Redis

from .product_repository import ProductNotFound, SqlAlchemyProductRepository
from .product_schemas import ProductOut
from .settings import Settings
from .tenancy import Tenant
from .tiered_cache import TieredCache


def product_key(tenant_id: str, sku: str) -> str:
    return f"product:{tenant_id}:{sku}"


def catalogue_key(tenant_id: str) -> str:
    return f"catalogue:{tenant_id}"


@dataclass(frozen=True)
class ProductCaches:
    products: TieredCache[ProductOut]
    catalogues: TieredCache[list[ProductOut]]

    @property
    def tiers(self) -> Sequence[TieredCache]:
        return (self.products, self.catalogues)

    async def forget(self, tenant_id: str, sku: str) -> None:
        """Call once the write has committed. Sooner, a reader could load the old row
        between the invalidation and the commit, and cache it again."""
        await self.products.invalidate(product_key(tenant_id, sku))
        await self.catalogues.invalidate(catalogue_key(tenant_id))


def product_caches(settings: Settings, redis: Redis) -> ProductCaches:
    # Both caches share the settings; only what they hold differs.
    cache = partial(
        TieredCache,
        redis,
        local_size=settings.product_cache_local_size,
        local_seconds=settings.product_cache_local_seconds,
        redis_seconds=settings.product_cache_redis_seconds,
        enabled=settings.product_cache_enabled,
    )
    return ProductCaches(products=cache(TypeAdapter(ProductOut)), catalogues=cache(TypeAdapter(list[ProductOut])))


def load_product(tenant: Tenant, sku: str) -> ProductOut | None:
    """The database tier. It opens its own session: the request that started the load
    may end (its client gone) while other readers still wait for the answer."""
    with tenant.sessions() as session:
        try:
            return SqlAlchemyProductRepository(session).get(sku)
        except ProductNotFound:
            return None


async def read_product(caches: ProductCaches, tenant: Tenant, sku: str) -> ProductOut:
    # A blocking query: it runs in the thread pool, the event loop meanwhile serves the others.
    load = partial(run_in_threadpool, load_product, tenant, sku)
    product = await caches.products.get(product_key(tenant.id, sku), load)
    if product is None:
        raise ProductNotFound(sku)
    return product


async def get_product_caches(request: Request) -> ProductCaches:
    return request.state.product_caches


ProductCachesDep = Annotated[ProductCaches, Depends(get_product_caches)]

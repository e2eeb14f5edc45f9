"""Exercise 08/cached_catalogue: the whole catalogue, read through the tiered cache.

GET /products asks the database for every product on every request. GET /catalogue
answers the same list, through the cache the app keeps for it: `caches.catalogues`,
a TieredCache[list[ProductOut]] (tiered_cache.py), which asks this process's LRU,
then Redis, then the database.

Write `read_catalogue`:

- read with `await caches.catalogues.get(key, load)`;
- the key is `catalogue_key(tenant.id)`, and no other: it is the key that
  PUT /admin/products/{sku} clears in every tier of every process once its write
  has committed (`ProductCaches.forget` in product_cache.py), so a price changed
  through any process is read here at once;
- `load` is an async function that takes no argument and answers the list from the
  database. `load_catalogue(tenant)` below is that query; it blocks, so run it in
  the thread pool: `run_in_threadpool(load_catalogue, tenant)`, wrapped so that
  the cache can call it with no argument (`functools.partial`, or a small
  `async def`).

A hundred readers arriving together still make one query: the cache sees to that.
"""

from functools import partial

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool

from ..dependencies import TenantDep
from ..product_cache import ProductCachesDep, catalogue_key
from ..product_repository import SqlAlchemyProductRepository
from ..product_schemas import ProductOut
from ..rate_limiting import rate_limiter
from ..tenancy import Tenant

router = APIRouter(tags=["exercises"], dependencies=[Depends(rate_limiter)])


def load_catalogue(tenant: Tenant) -> list[ProductOut]:
    """The database tier: every product of the tenant, in SKU order, on a session of its own."""
    with tenant.sessions() as session:
        return SqlAlchemyProductRepository(session).list()


@router.get("/catalogue")
async def read_catalogue(tenant: TenantDep, caches: ProductCachesDep) -> list[ProductOut]:
    # BEGIN SOLUTION
    load = partial(run_in_threadpool, load_catalogue, tenant)
    # The cache answers None only when the loader does; a catalogue is a list, perhaps empty.
    return await caches.catalogues.get(catalogue_key(tenant.id), load) or []
    # END SOLUTION

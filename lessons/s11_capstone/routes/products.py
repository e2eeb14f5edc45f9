"""The products routes: the tenant's catalogue, read by anyone, changed by an admin.

Like the /users routes, each needs an X-Tenant-ID header (the catalogue is the
tenant's) and counts against the caller's rate limit. A product is read by anyone,
but a caller who sends a Bearer token has it checked as everywhere else: a token
that was logged out, or issued before a password or role change, is a 401, never
quietly read as anonymous.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Security
from fastapi.concurrency import run_in_threadpool

from ..dependencies import ProductRepositoryDep, TenantDep
from ..paging import DEFAULT_LIMIT, Limit, Offset
from ..permissions import PermissionChecker
from ..product_cache import ProductCachesDep, read_product
from ..product_schemas import SKU_EXAMPLE, SKU_PATTERN, ProductChanges, ProductOut
from ..rate_limiting import rate_limiter
from ..read_gate import ReaderDep

router = APIRouter(tags=["products"])

# Bounded where the path is parsed: any other text is a 422 before the database is asked.
Sku = Annotated[str, Path(pattern=SKU_PATTERN, max_length=32, examples=[SKU_EXAMPLE], description="The SKU")]


@router.get("/products", dependencies=[Depends(rate_limiter)])
def list_products(products: ProductRepositoryDep, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> list[ProductOut]:
    # The repository is a dependency (it owns a session); the page is the client's choice (paging.py).
    return products.list(limit, offset)


@router.get("/products/{sku}")
async def get_product(sku: Sku, reader: ReaderDep) -> ProductOut:
    # One provider checks tenant, token and rate limit (read_gate.py). Then this process's
    # LRU, then Redis, then the database (product_cache.py): a hit opens no session and
    # takes no connection from the pool. ProductNotFound answers 404 (errors.py).
    # The caller is checked for the refusal alone: every caller sees the same product.
    return await read_product(reader.caches, reader.tenant, sku)


@router.put(
    "/admin/products/{sku}",
    tags=["admin"],
    dependencies=[Depends(rate_limiter), Security(PermissionChecker("products:edit"), scopes=["admin"])],
)
async def update_product(
    sku: Sku, body: ProductChanges, products: ProductRepositoryDep, tenant: TenantDep, caches: ProductCachesDep
) -> ProductOut:
    product = await run_in_threadpool(products.update, sku, body)  # committed when it returns
    await caches.forget(tenant.id, sku)  # then every tier of every process forgets the old one
    return product

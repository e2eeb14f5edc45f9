"""Exercise 11/restock: an admin puts stock on the shelf, and every process serves the new count.

POST /admin/products/{sku}/restock with {"quantity": N} is routed already: the
admin scope and the products:edit permission guard it, the rate limit counts it,
and the X-Tenant-ID header picks the tenant's database. Write two parts:

- `add_stock`, run in the thread pool with the request's session: N more of the
  product on the shelf, committed; answer the product as it now is. An unknown
  SKU raises ProductNotFound (404). A stock that would pass MAX_STOCK (what the
  column holds) is a 409, `HTTPException(409, f"{sku} holds {stock}; {N} more would pass {MAX_STOCK}")`,
  and nothing changes.
- the route, once `add_stock` has returned: every cached copy of the product, in
  THIS process and in every other one, must go, so that a GET /products/{sku}
  sent to any worker process answers the new stock at once.

Two things make it the capstone's. Orders take stock at the same moment from other
processes: read the stock, add N and write the sum, and an order that commits in
between is lost (or sold twice). Let the database add, as stock.py does when it
takes stock. And each process keeps its own copy of the product in memory: clear
only your own, and the other processes serve the old count until their copy expires.
"""

from fastapi import APIRouter, Depends, HTTPException, Security, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import stock
from ..dependencies import SessionDep, TenantDep
from ..models import Product
from ..path_params import MAX_ID
from ..permissions import PermissionChecker
from ..product_cache import ProductCachesDep
from ..product_repository import ProductNotFound
from ..product_schemas import ProductOut
from ..rate_limiting import rate_limiter
from ..routes.products import Sku

router = APIRouter(tags=["exercises"], dependencies=[Depends(rate_limiter)])

# The most a product's stock may be: what its INTEGER column holds (and what PUT allows).
MAX_STOCK = MAX_ID


class Restock(BaseModel):
    quantity: int = Field(ge=1, le=100_000, description="How many more to put on the shelf")


def add_stock(session: Session, sku: str, quantity: int) -> ProductOut:
    # BEGIN SOLUTION
    # One statement: the database adds to whatever the stock is when the row is written, so an
    # order committed in between is kept. The condition keeps the sum inside the column.
    added = stock.rows_changed(
        session,
        update(Product)
        .where(Product.sku == sku, Product.stock <= MAX_STOCK - quantity)
        .values(stock=Product.stock + quantity),
    )
    if added != 1:
        held = session.scalar(select(Product.stock).where(Product.sku == sku))
        if held is None:
            raise ProductNotFound(sku)
        raise HTTPException(status.HTTP_409_CONFLICT, f"{sku} holds {held}; {quantity} more would pass {MAX_STOCK}")
    product = session.get(Product, sku, populate_existing=True)  # the row as the UPDATE left it
    session.commit()
    return ProductOut.model_validate(product)
    # END SOLUTION


@router.post(
    "/admin/products/{sku}/restock",
    tags=["admin"],
    dependencies=[Security(PermissionChecker("products:edit"), scopes=["admin"])],
    responses={
        404: {"description": "No product with this SKU in the tenant's catalogue"},
        409: {"description": "The stock would pass the most a product can hold"},
    },
)
async def restock(
    sku: Sku, body: Restock, session: SessionDep, tenant: TenantDep, caches: ProductCachesDep
) -> ProductOut:
    # BEGIN SOLUTION
    product = await run_in_threadpool(add_stock, session, sku, body.quantity)  # committed when it returns
    # Then, not before: every tier of every process forgets the old count (Redis, and each
    # process's memory through the broadcast). Sooner, a reader could cache the old row again.
    await caches.forget(tenant.id, sku)
    return product
    # END SOLUTION

"""The products routes: the tenant's catalogue, read by anyone, changed by an admin.

Like the /users routes, each needs an X-Tenant-ID header (the catalogue is the
tenant's) and counts against the caller's rate limit.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Security

from ..dependencies import ProductRepositoryDep
from ..permissions import PermissionChecker
from ..product_schemas import SKU_EXAMPLE, SKU_PATTERN, ProductChanges, ProductOut
from ..rate_limiting import rate_limiter

router = APIRouter(tags=["products"], dependencies=[Depends(rate_limiter)])

# Bounded where the path is parsed: any other text is a 422 before the database is asked.
Sku = Annotated[str, Path(pattern=SKU_PATTERN, max_length=32, examples=[SKU_EXAMPLE], description="The SKU")]


@router.get("/products")
def list_products(products: ProductRepositoryDep) -> list[ProductOut]:
    return products.list()


@router.get("/products/{sku}")
def get_product(sku: Sku, products: ProductRepositoryDep) -> ProductOut:
    return products.get(sku)  # ProductNotFound answers 404 (errors.py)


@router.put(
    "/admin/products/{sku}",
    tags=["admin"],
    dependencies=[Security(PermissionChecker("products:edit"), scopes=["admin"])],
)
def update_product(sku: Sku, body: ProductChanges, products: ProductRepositoryDep) -> ProductOut:
    return products.update(sku, body)

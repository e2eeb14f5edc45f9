"""Where the tenant's products are kept: a port and its SQLAlchemy adapter.

The repository works on the session it is given, which belongs to one tenant,
so it reads and writes that tenant's products only. It answers `ProductOut`
values rather than rows: a caller (a route, a cache) can keep them after the
session is gone.
"""

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Product
from .product_schemas import ProductChanges, ProductOut


class ProductNotFound(LookupError):
    def __init__(self, sku: str) -> None:
        super().__init__(f"No product {sku!r}")


class ProductRepository(Protocol):
    def list(self, limit: int, offset: int = 0) -> list[ProductOut]:
        """At most `limit` products in SKU order, after skipping `offset` of them."""
        ...

    def get(self, sku: str) -> ProductOut:
        """One product; raises ProductNotFound."""
        ...

    def update(self, sku: str, changes: ProductChanges) -> ProductOut:
        """Apply the changes and commit them; raises ProductNotFound.

        The change is final when this returns, so a cache may drop its copy then.
        """
        ...


class SqlAlchemyProductRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def list(self, limit: int, offset: int = 0) -> list[ProductOut]:
        products = self.session.scalars(select(Product).order_by(Product.sku).limit(limit).offset(offset))
        return [ProductOut.model_validate(product) for product in products]

    def get(self, sku: str) -> ProductOut:
        return ProductOut.model_validate(self._row(sku))

    def update(self, sku: str, changes: ProductChanges) -> ProductOut:
        product = self._row(sku)
        for field, value in changes.model_dump().items():
            setattr(product, field, value)
        self.session.commit()
        return ProductOut.model_validate(product)

    def _row(self, sku: str) -> Product:
        product = self.session.get(Product, sku)
        if product is None:
            raise ProductNotFound(sku)
        return product

"""A product repository that keeps products in a dict: the ProductRepository port without a database.

For unit tests and API tests that override `get_product_repository`: the route and
whatever calls the port run unchanged, and nothing opens a connection. It answers
the same `ProductOut` values and raises the same ProductNotFound as the SQLAlchemy
adapter, so a test written against one holds for the other (the integration tests
check that on the real database).
"""

from collections.abc import Iterable

from .product_repository import ProductNotFound
from .product_schemas import ProductChanges, ProductOut


class InMemoryProductRepository:
    def __init__(self, products: Iterable[ProductOut] = ()) -> None:
        self._products = {product.sku: product for product in products}

    def list(self, limit: int, offset: int = 0) -> list[ProductOut]:
        return [self._products[sku] for sku in sorted(self._products)[offset : offset + limit]]

    def get(self, sku: str) -> ProductOut:
        try:
            return self._products[sku]
        except KeyError:
            raise ProductNotFound(sku) from None

    def update(self, sku: str, changes: ProductChanges) -> ProductOut:
        # ProductOut is frozen: the stored value is replaced, never changed in place,
        # so a value a caller already holds (a cache, say) keeps what it read.
        updated = self.get(sku).model_copy(update=changes.model_dump())
        self._products[sku] = updated
        return updated

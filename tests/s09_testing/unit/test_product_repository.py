"""The ProductRepository port, one set of tests for both of its adapters.

The same bodies run on the dict (InMemoryProductRepository) and on SQLAlchemy
over in-memory SQLite: whatever an API test proves with the dict standing in,
the real adapter does too. A contract test like this is what makes a fake safe
to lean on.
"""

from collections.abc import Iterator
from decimal import Decimal

import pytest

from lessons.s09_testing.demo_products import DEMO_PRODUCTS
from lessons.s09_testing.in_memory_products import InMemoryProductRepository
from lessons.s09_testing.models import Product
from lessons.s09_testing.product_repository import ProductNotFound, ProductRepository, SqlAlchemyProductRepository
from lessons.s09_testing.product_schemas import ProductChanges

from .memory_database import sessions, shared_memory_engine

pytestmark = pytest.mark.unit

CATALOGUE = DEMO_PRODUCTS["acme"]
CHANGES = ProductChanges(name="Big enamel mug", price=Decimal("14.00"), stock=39)


@pytest.fixture(params=["in_memory", "sqlalchemy"])
def products(request) -> Iterator[ProductRepository]:
    if request.param == "in_memory":
        yield InMemoryProductRepository(CATALOGUE)
        return
    with sessions(shared_memory_engine())() as session:
        session.add_all(Product(**product.model_dump()) for product in CATALOGUE)
        session.commit()
        yield SqlAlchemyProductRepository(session)


def test_the_list_is_in_sku_order(products):
    assert [product.sku for product in products.list()] == ["CAP-003", "MUG-001", "TEE-002"]


def test_a_product_is_found_by_its_sku(products):
    assert products.get("MUG-001").price == Decimal("12.50")


def test_an_unknown_sku_raises_product_not_found(products):
    with pytest.raises(ProductNotFound, match="NOPE-404"):
        products.get("NOPE-404")


def test_an_update_is_answered_and_kept(products):
    updated = products.update("MUG-001", CHANGES)
    assert (updated.name, updated.price, updated.stock) == ("Big enamel mug", Decimal("14.00"), 39)
    assert products.get("MUG-001") == updated


def test_a_value_read_before_an_update_keeps_what_it_read(products):
    """A cache may hold the old value: the update must not change it under the cache's feet."""
    before = products.get("MUG-001")
    products.update("MUG-001", CHANGES)
    assert before.name == "Enamel mug"


def test_updating_an_unknown_sku_raises_product_not_found(products):
    with pytest.raises(ProductNotFound):
        products.update("NOPE-404", CHANGES)

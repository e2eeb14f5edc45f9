"""The product routes over the in-memory repository: the route is tested, the database is not asked.

GET /products and PUT /admin/products/{sku} reach the catalogue through
`get_product_repository`; overriding it with InMemoryProductRepository gives
each test a catalogue of its own. (GET /products/{sku} reads through the tiered
cache, which loads from the database itself: the integration tests cover it.)
"""

from decimal import Decimal

import pytest

from lessons.s09_testing.dependencies import get_product_repository
from lessons.s09_testing.in_memory_products import InMemoryProductRepository
from lessons.s09_testing.product_schemas import ProductOut

from ...auth_helpers import ACME, bearer

pytestmark = pytest.mark.api

KETTLE = ProductOut(sku="KETTLE-9", name="Kettle", price=Decimal("30.00"), stock=2)


@pytest.fixture
def catalogue(override) -> InMemoryProductRepository:
    products = InMemoryProductRepository([KETTLE])
    override(get_product_repository, lambda: products)
    return products


def test_the_list_is_the_repositorys(client, catalogue):
    response = client.get("/products", headers=ACME)
    assert response.status_code == 200
    assert response.json() == [{"sku": "KETTLE-9", "name": "Kettle", "price": "30.00", "stock": 2}]


def test_an_admin_update_reaches_the_repository(client, catalogue, admin):
    changes = {"name": "Steel kettle", "price": "32.00", "stock": 5}
    response = client.put("/admin/products/KETTLE-9", json=changes, headers=bearer(admin["access_token"]))
    assert response.status_code == 200, response.text
    assert catalogue.get("KETTLE-9").name == "Steel kettle"


def test_updating_an_unknown_sku_is_404(client, catalogue, admin):
    changes = {"name": "Ghost", "price": "1.00", "stock": 0}
    response = client.put("/admin/products/NOPE-404", json=changes, headers=bearer(admin["access_token"]))
    assert response.status_code == 404

"""Exercise 08/cached_catalogue: GET /catalogue through the tiered cache, cleared by every product write."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, event

from ..auth_helpers import ACME, GLOBEX, bearer
from ..stage_apps import run_redis

NEW_MUG = {"name": "Enamel mug, blue", "price": "13.75", "stock": 7}


@pytest.fixture
def catalogue_queries() -> Iterator[list[str]]:
    """Every query for a whole catalogue (all of a tenant's products, in SKU order) while the test runs."""
    sent: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().startswith("SELECT") and "products ORDER BY" in " ".join(statement.split()):
            sent.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield sent
    event.remove(Engine, "before_cursor_execute", record)


def catalogue(client, headers=ACME) -> list[dict]:
    response = client.get("/catalogue", headers=headers)
    assert response.status_code == 200, f"GET /catalogue should answer 200, got {response.status_code}"
    return response.json()


def test_the_catalogue_is_the_tenants_products(client):
    assert catalogue(client) == client.get("/products", headers=ACME).json(), "the same list as GET /products"
    assert catalogue(client, GLOBEX) == client.get("/products", headers=GLOBEX).json(), "each tenant its own"


def test_three_reads_make_one_query(client, catalogue_queries):
    for _ in range(3):
        catalogue(client)
    assert len(catalogue_queries) == 1, (
        f"the first read should fill the cache and the next two come from it: {len(catalogue_queries)} queries"
    )


def test_the_catalogue_is_kept_in_redis_under_the_key_product_writes_clear(client):
    catalogue(client)
    stored = run_redis(client, "get", "catalogue:acme")
    assert stored is not None, "read through caches.catalogues under catalogue_key(tenant.id): 'catalogue:acme'"
    assert run_redis(client, "get", "catalogue:globex") is None, "each tenant has a key of its own"


def test_a_product_write_is_read_back_at_once(client, admin):
    assert catalogue(client)[0]["price"] == "18.00", "CAP-003 comes first (SKU order)"
    response = client.put("/admin/products/MUG-001", json=NEW_MUG, headers=bearer(admin["access_token"]))
    assert response.status_code == 200, response.text
    mug = next(product for product in catalogue(client) if product["sku"] == "MUG-001")
    assert mug == {"sku": "MUG-001", **NEW_MUG}, "the write cleared the cached catalogue: the new price shows"

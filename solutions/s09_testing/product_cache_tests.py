"""Exercise 09/product_cache_tests: write the tests that keep the product cache honest.

GET /products/{sku} reads through a tiered cache (tiered_cache.py, product_cache.py):
this process's memory, then Redis, then the database. Three things must hold:

- a product read again is answered from this process's memory;
- a product an admin changed (PUT /admin/products/{sku}) is read back changed, at once;
- the tenant is part of every key: acme's product is never served to globex.

Write the three tests below. `make check LESSON=09` runs them on stage 09 as it is, where
they must pass, then once with each of three planted bugs, each of which must make at least
one of them fail. A bug that slips through is named, with what it breaks.

What you have (tests/conftest.py, tests/auth_fixtures.py and tests/auth_helpers.py):

    client    the app in a TestClient with its demo data: acme sells MUG-001 at "12.50",
              globex does not sell it
    admin     acme's demo admin, logged in: bearer(admin["access_token"]) are its headers
    ACME, GLOBEX  the tenant headers ({"X-Tenant-ID": ...})
    GET /health/cache  this process's hits and misses, per tier:
              client.get("/health/cache").json()["products"]["local"]["hits"]
"""

from tests.auth_helpers import ACME, GLOBEX, bearer

MUG = {"name": "Enamel mug", "price": "12.50", "stock": 40}


def test_a_product_read_again_is_answered_from_memory(client):
    # BEGIN SOLUTION
    for _ in range(3):
        assert client.get("/products/MUG-001", headers=ACME).json()["price"] == MUG["price"]
    local = client.get("/health/cache").json()["products"]["local"]
    assert (local["hits"], local["misses"]) == (2, 1), "the first read fills this process's memory, two hit it"
    # END SOLUTION


def test_a_product_changed_by_an_admin_is_read_back_changed(client, admin):
    # BEGIN SOLUTION
    assert client.get("/products/MUG-001", headers=ACME).json()["price"] == MUG["price"]  # now in every tier
    changed = {**MUG, "price": "13.75"}
    written = client.put("/admin/products/MUG-001", json=changed, headers=bearer(admin["access_token"]))
    assert written.status_code == 200, written.text
    read = client.get("/products/MUG-001", headers=ACME).json()
    assert read["price"] == "13.75", "the write should have cleared the old product from every tier"
    # END SOLUTION


def test_one_tenants_product_is_never_served_to_another(client):
    # BEGIN SOLUTION
    assert client.get("/products/MUG-001", headers=ACME).status_code == 200  # now cached for acme
    assert client.get("/products/MUG-001", headers=GLOBEX).status_code == 404, "globex does not sell MUG-001"
    # END SOLUTION

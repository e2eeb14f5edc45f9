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
    raise NotImplementedError("exercise 09/product_cache_tests: write this part")


def test_a_product_changed_by_an_admin_is_read_back_changed(client, admin):
    raise NotImplementedError("exercise 09/product_cache_tests: write this part")


def test_one_tenants_product_is_never_served_to_another(client):
    raise NotImplementedError("exercise 09/product_cache_tests: write this part")

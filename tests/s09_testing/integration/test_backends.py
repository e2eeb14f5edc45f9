"""The behaviours the unit and API tests proved with stand-ins, on each real backend.

Nothing is overridden here: the SQLAlchemy adapters, the tiered cache and the
token checks run against the database and Redis the parameter names. A test that
passes on SQLite and fails on PostgreSQL (a type, a transaction, a schema) fails here.
"""

import pytest

from ...auth_helpers import ACME, ADA, GLOBEX, bearer, log_in, log_in_as_admin, register

pytestmark = pytest.mark.integration

MUG = "/products/MUG-001"


def test_a_registered_user_logs_in_and_reads_their_account(shop_on):
    register(shop_on, ADA)
    token = log_in(shop_on, ADA["email"], ADA["password"])["access_token"]
    assert shop_on.get("/users/me", headers=bearer(token)).json()["email"] == ADA["email"]


def test_a_user_of_one_tenant_does_not_exist_in_the_other(shop_on):
    register(shop_on, ADA)
    response = shop_on.post("/token", data={"username": ADA["email"], "password": ADA["password"]}, headers=GLOBEX)
    assert response.status_code == 400


def test_each_tenant_reads_its_own_catalogue(shop_on):
    acme = [product["sku"] for product in shop_on.get("/products", headers=ACME).json()]
    globex = [product["sku"] for product in shop_on.get("/products", headers=GLOBEX).json()]
    assert acme == ["CAP-003", "MUG-001", "TEE-002"] and globex == ["LAMP-100", "PEN-200"]


def test_a_cached_product_is_read_afresh_after_an_update(shop_on):
    assert shop_on.get(MUG, headers=ACME).json()["stock"] == 40  # now in memory and in Redis
    admin = bearer(log_in_as_admin(shop_on)["access_token"])
    changes = {"name": "Enamel mug", "price": "12.50", "stock": 39}
    assert shop_on.put(f"/admin{MUG}", json=changes, headers=admin).status_code == 200
    assert shop_on.get(MUG, headers=ACME).json()["stock"] == 39


def test_a_password_change_ends_the_earlier_tokens(shop_on):
    register(shop_on, ADA)
    token = log_in(shop_on, ADA["email"], ADA["password"])["access_token"]
    change = {"current_password": ADA["password"], "new_password": "a brand new secret"}
    assert shop_on.post("/users/me/password", json=change, headers=bearer(token)).status_code == 204
    assert shop_on.get("/users/me", headers=bearer(token)).status_code == 401

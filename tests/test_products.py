"""Products live in each tenant's database: read by anyone with the tenant's header, changed by an admin.

They run against every stage whose API lets an admin change a product, each stage's app in turn.
"""

import pytest
from sqlalchemy import select

from .auth_helpers import ACME, GLOBEX, bearer, log_in_as_admin
from .problems import error_body
from .stage_apps import StageApp, count_rows, stage_app_fixture

stage_app = stage_app_fixture("/admin/products/{sku}")

NEW_MUG = {"name": "Enamel mug, blue", "price": "13.75", "stock": 7}


def skus(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [product["sku"] for product in response.json()]


def demo_products(stage_app: StageApp) -> dict[str, list]:
    """The products the stage seeds in each tenant, by tenant."""
    return stage_app.module("demo_products").DEMO_PRODUCTS


@pytest.mark.services
def test_each_tenant_reads_its_own_catalogue(client, stage_app):
    seeded = demo_products(stage_app)
    assert skus(client.get("/products", headers=ACME)) == sorted(p.sku for p in seeded["acme"])
    assert skus(client.get("/products", headers=GLOBEX)) == sorted(p.sku for p in seeded["globex"])


@pytest.mark.services
def test_a_product_is_read_by_its_sku_with_an_exact_price(client):
    response = client.get("/products/MUG-001", headers=ACME)
    assert response.status_code == 200, response.text
    # The price travels as a decimal string: exactly what NUMERIC(10, 2) holds, no float rounding.
    assert response.json() == {"sku": "MUG-001", "name": "Enamel mug", "price": "12.50", "stock": 40}


def test_the_catalogue_needs_a_tenant(client):
    assert client.get("/products").status_code == 400, "no X-Tenant-ID: 400, as on /users"
    assert client.get("/products", headers={"X-Tenant-ID": "nowhere"}).status_code == 404


@pytest.mark.services
def test_an_unknown_sku_is_404_and_another_tenants_sku_too(client):
    assert error_body(client.get("/products/NOPE-999", headers=ACME)) == {"detail": "No product 'NOPE-999'"}
    assert client.get("/products/LAMP-100", headers=ACME).status_code == 404, "globex's lamp is not acme's"
    assert client.get("/products/LAMP-100", headers=GLOBEX).status_code == 200


@pytest.mark.parametrize("sku", ["mug-001", "-MUG", "M", "A" * 33, "MUG 001", "MUG%00"])
def test_a_sku_outside_the_pattern_is_422(client, sku):
    assert client.get(f"/products/{sku}", headers=ACME).status_code == 422


@pytest.mark.services
def test_an_admin_changes_a_product(client, admin):
    response = client.put("/admin/products/MUG-001", json=NEW_MUG, headers=bearer(admin["access_token"]))
    assert response.status_code == 200, response.text
    assert response.json() == {"sku": "MUG-001", **NEW_MUG}
    assert client.get("/products/MUG-001", headers=ACME).json() == {"sku": "MUG-001", **NEW_MUG}
    assert client.get("/products/LAMP-100", headers=GLOBEX).json()["stock"] == 12, "globex is untouched"


def test_only_an_admin_changes_a_product(client, ada):
    assert client.put("/admin/products/MUG-001", json=NEW_MUG, headers=ACME).status_code == 401
    response = client.put("/admin/products/MUG-001", json=NEW_MUG, headers=bearer(ada["access_token"]))
    assert response.status_code == 403, "a customer's token lacks the admin scope"
    assert client.get("/products/MUG-001", headers=ACME).json()["price"] == "12.50", "nothing changed"


def test_an_admin_of_another_tenant_cannot_change_acmes_products(client):
    globex_admin = log_in_as_admin(client, "globex")
    response = client.put("/admin/products/MUG-001", json=NEW_MUG, headers=bearer(globex_admin["access_token"]))
    assert response.status_code == 401, "a globex token is refused on an acme request"


@pytest.mark.services
@pytest.mark.parametrize(
    "body",
    [
        {**NEW_MUG, "stock": -1},
        {**NEW_MUG, "stock": 2**31},
        {**NEW_MUG, "price": "-0.01"},
        {**NEW_MUG, "price": "1.005"},  # a third decimal place
        {**NEW_MUG, "price": "100000000.00"},  # eleven digits
        {**NEW_MUG, "price": "NaN"},
        {**NEW_MUG, "name": "mug\x00"},  # PostgreSQL cannot store NUL: refused before it gets there
        {**NEW_MUG, "name": " "},
        {"name": "Enamel mug"},  # PUT replaces: all three fields
    ],
)
def test_a_bad_change_is_422_and_changes_nothing(client, admin, body):
    response = client.put("/admin/products/MUG-001", json=body, headers=bearer(admin["access_token"]))
    assert response.status_code == 422, response.text
    assert client.get("/products/MUG-001", headers=ACME).json()["price"] == "12.50", "nothing half-written"


@pytest.mark.services
def test_changing_an_unknown_product_is_404(client, admin, stage_app):
    response = client.put("/admin/products/NOPE-999", json=NEW_MUG, headers=bearer(admin["access_token"]))
    assert response.status_code == 404
    product = stage_app.module("models").Product
    assert count_rows(client, product) == len(demo_products(stage_app)["acme"]), "PUT does not create"


@pytest.mark.services
def test_seeding_again_adds_nothing_and_keeps_changes(client, admin, stage_app):
    product = stage_app.module("models").Product
    client.put("/admin/products/MUG-001", json=NEW_MUG, headers=bearer(admin["access_token"]))
    # What a restart, or a second process, does:
    stage_app.module("demo_products").seed_demo_products(client.app_state["tenants"])
    assert count_rows(client, product) == len(demo_products(stage_app)["acme"])
    with client.app_state["tenants"].get("acme").sessions() as session:
        assert session.scalar(select(product.name).where(product.sku == "MUG-001")) == NEW_MUG["name"]

"""Exercise 11/restock: a restock adds with one UPDATE, and every process serves the new stock."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import httpx2
import pytest
from fastapi.testclient import TestClient

from ..auth_helpers import ACME, bearer, log_in_as_admin
from ..order_helpers import both_at_once, stock_of
from ..payment_helpers import logged_in_ada
from .processes import admin_of_acme, settled, stock_in_each


@pytest.fixture
def shop_on_file(auth_env, services, tmp_path, monkeypatch, stage_app) -> Iterator[TestClient]:
    """The app on a SQLite file (or PostgreSQL with --services): the in-memory database is one
    connection, which two requests at once would share."""
    if not services:
        monkeypatch.setenv("WORKBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    yield from stage_app.serve()


@pytest.fixture
def admin(shop_on_file) -> dict:
    return bearer(log_in_as_admin(shop_on_file)["access_token"])


def restock(client, headers: dict, sku: str, quantity) -> httpx2.Response:
    return client.post(f"/admin/products/{sku}/restock", json={"quantity": quantity}, headers=headers)


def test_a_restock_adds_to_the_stock_and_answers_the_product(shop_on_file, admin):
    assert shop_on_file.get("/products/MUG-001", headers=ACME).json()["stock"] == 40, "read once: now cached"
    response = restock(shop_on_file, admin, "MUG-001", 12)
    assert response.status_code == 200, f"an admin restocks a product: 200, got {response.text}"
    assert response.json() == {"sku": "MUG-001", "name": "Enamel mug", "price": "12.50", "stock": 52}, (
        "the answer is the product with its new stock"
    )
    assert stock_of(shop_on_file, "MUG-001") == 52, "the database holds 40 + 12"
    assert shop_on_file.get("/products/MUG-001", headers=ACME).json()["stock"] == 52, (
        "GET /products/MUG-001 serves the new stock, not the copy it cached before"
    )


def test_only_an_admin_of_the_tenant_may_restock(shop_on_file, admin):
    assert restock(shop_on_file, ACME, "MUG-001", 5).status_code == 401, "no token: 401"
    customer = restock(shop_on_file, logged_in_ada(shop_on_file), "MUG-001", 5)
    assert customer.status_code == 403, f"a customer's token lacks the admin scope: 403, got {customer.status_code}"
    globex_admin = bearer(log_in_as_admin(shop_on_file, "globex")["access_token"], ACME)
    assert restock(shop_on_file, globex_admin, "MUG-001", 5).status_code == 401, (
        "globex's admin holds a token of another tenant: 401 in acme"
    )
    assert stock_of(shop_on_file, "MUG-001") == 40, "none of them changed the stock"
    assert restock(shop_on_file, admin, "MUG-001", 5).status_code == 200, "acme's own admin may"


def test_a_product_of_another_tenant_is_not_found(shop_on_file, admin):
    response = restock(shop_on_file, admin, "LAMP-100", 5)
    assert response.status_code == 404, f"LAMP-100 is globex's, not acme's: 404, got {response.status_code}"
    assert response.headers["content-type"] == "application/problem+json", "answered as a problem, like any 404"
    assert stock_of(shop_on_file, "LAMP-100", tenant="globex") == 12, "globex's lamps are untouched"


@pytest.mark.parametrize("quantity", [0, -3, 100_001, "ten", None])
def test_a_quantity_that_is_not_a_positive_bounded_count_is_422(shop_on_file, admin, quantity):
    response = restock(shop_on_file, admin, "MUG-001", quantity)
    assert response.status_code == 422, f"quantity {quantity!r}: 422, got {response.status_code}"
    assert stock_of(shop_on_file, "MUG-001") == 40, "nothing written"
    assert restock(shop_on_file, admin, "MUG-001", 100_000).json()["stock"] == 100_040, "while 100 000 is fine"


def test_a_stock_past_what_the_column_holds_is_409_and_changes_nothing(shop_on_file, admin):
    most = 2**31 - 1
    full = {"name": "Enamel mug", "price": "12.50", "stock": most - 3}
    assert shop_on_file.put("/admin/products/MUG-001", json=full, headers=admin).status_code == 200
    response = restock(shop_on_file, admin, "MUG-001", 5)
    assert response.status_code == 409, f"{most - 3} + 5 does not fit: 409, got {response.text}"
    assert response.json()["detail"] == f"MUG-001 holds {most - 3}; 5 more would pass {most}"
    assert stock_of(shop_on_file, "MUG-001") == most - 3, "the stock is as it was"
    assert restock(shop_on_file, admin, "MUG-001", 3).json()["stock"] == most, "exactly full still fits"


@pytest.mark.services
def test_two_restocks_at_once_both_count(shop_on_file, admin):
    engine = shop_on_file.app_state["pool"].engine
    # Both restocks read the stock before either writes: one that reads, adds and writes the sum loses the other.
    answers = both_at_once(engine, lambda quantity: restock(shop_on_file, admin, "MUG-001", quantity), (5, 7))
    assert [answer.status_code for answer in answers] == [200, 200], [answer.text for answer in answers]
    assert stock_of(shop_on_file, "MUG-001") == 52, (
        f"40 + 5 + 7: both restocks count, got {stock_of(shop_on_file, 'MUG-001')}"
    )


@pytest.mark.services
def test_every_process_serves_the_new_stock_after_a_restock_through_one(processes):
    admin = admin_of_acme(processes[0])
    before = stock_in_each(processes, "TEE-002")  # each process now holds TEE-002 in its memory, for a minute
    assert len(set(before)) == 1, f"the three processes agree before the restock: {before}"
    response = restock(processes[1], admin, "TEE-002", 9)
    assert response.status_code == 200, response.text
    wanted = [before[0] + 9] * len(processes)
    seen = settled(partial(stock_in_each, processes, "TEE-002"), wanted)
    assert seen == wanted, (
        f"every process serves {before[0]} + 9 once the restock through the second has answered, "
        f"not the copy it kept in memory; they served {seen}"
    )


@pytest.mark.services
def test_restocks_spread_over_the_processes_all_count(processes):
    admin = admin_of_acme(processes[0])
    [start, *_] = stock_in_each(processes, "CAP-003")
    with ThreadPoolExecutor(len(processes)) as pool:
        answers = list(pool.map(lambda n: restock(processes[n % len(processes)], admin, "CAP-003", 2), range(12)))
    assert [answer.status_code for answer in answers] == [200] * 12, [answer.text for answer in answers]
    wanted = [start + 24] * len(processes)
    seen = settled(partial(stock_in_each, processes, "CAP-003"), wanted)
    assert seen == wanted, f"twelve restocks of 2, sent to three processes at once: {start} + 24 in each, got {seen}"

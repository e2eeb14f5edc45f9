"""POST /orders: stock taken by the database, the total charged at the HTTPS provider, and every
failure leaving the stock as it was. Redis holds the products' locks: both tiers."""

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from fastapi.testclient import TestClient

from ..auth_helpers import ACME, GRACE, bearer, log_in, log_in_as_admin, register
from ..order_helpers import order, order_at_once, stock_of
from ..payment_helpers import DEADLINE_SECONDS, logged_in_ada

pytestmark = pytest.mark.services


def test_an_order_takes_the_stock_charges_the_total_and_is_paid(shop, payer, provider, stage_app):
    response = order(shop, payer, ("MUG-001", 2), ("TEE-002", 1))
    assert response.status_code == 201, response.text
    placed = response.json()
    assert placed["status"] == "paid" and placed["total"] == "49.00" and placed["currency"] == "EUR"
    assert {(item["sku"], item["quantity"], item["price"]) for item in placed["items"]} == {
        ("MUG-001", 2, "12.50"),
        ("TEE-002", 1, "24.00"),
    }
    assert (stock_of(shop, "MUG-001"), stock_of(shop, "TEE-002")) == (38, 14)
    key = stage_app.module("orders").provider_key("acme", placed["id"])
    assert provider.ledger.charges[key]["amount"] == 4900, "one charge, under a key made from the order's id"
    assert placed["charge_id"] == provider.ledger.charges[key]["id"]
    assert shop.get(f"/orders/{placed['id']}", headers=payer).json() == placed


def test_the_product_shows_the_stock_left_after_an_order(shop, payer, provider):
    assert shop.get("/products/MUG-001", headers=ACME).json()["stock"] == 40  # now in the cache
    assert order(shop, payer, ("MUG-001", 3)).status_code == 201
    assert shop.get("/products/MUG-001", headers=ACME).json()["stock"] == 37, "the order cleared the cached copy"


def test_an_unknown_sku_is_404_and_takes_nothing(shop, payer, provider, stage_app):
    response = order(shop, payer, ("MUG-001", 1), ("NOPE-999", 1))
    assert response.status_code == 404, response.text
    assert response.json()["detail"] == "No product 'NOPE-999'"
    assert stock_of(shop, "MUG-001") == 40, "the mug taken before the unknown SKU was found went back"
    assert shop.get("/orders", headers=payer).json() == [] and provider.ledger.calls == 0


def test_not_enough_stock_is_409_says_what_is_short_and_takes_nothing(shop, payer, provider):
    response = order(shop, payer, ("MUG-001", 1), ("TEE-002", 16))
    assert response.status_code == 409, response.text
    assert response.json()["detail"] == "Not enough stock of 'TEE-002': 16 asked, 15 left"
    assert (stock_of(shop, "MUG-001"), stock_of(shop, "TEE-002")) == (40, 15)
    assert order(shop, payer, ("CAP-003", 1)).json()["detail"] == "Not enough stock of 'CAP-003': 1 asked, 0 left"
    assert shop.get("/orders", headers=payer).json() == [] and provider.ledger.calls == 0


def test_a_failed_charge_is_502_gives_the_stock_back_and_marks_the_order_failed(shop, payer, provider):
    provider.failure_rate = 1.0
    response = order(shop, payer, ("MUG-001", 5))
    assert response.status_code == 502, response.text
    assert stock_of(shop, "MUG-001") == 40, "the five mugs went back on the shelf"
    [failed] = shop.get("/orders", headers=payer).json()
    assert failed["status"] == "failed" and failed["charge_id"] is None
    provider.failure_rate = 0.0
    assert order(shop, payer, ("MUG-001", 40)).status_code == 201, "all 40 can be sold again"


def test_a_charge_that_times_out_is_504_and_gives_the_stock_back(shop, payer, provider):
    provider.latency = DEADLINE_SECONDS + 0.5
    response = order(shop, payer, ("TEE-002", 15))
    assert response.status_code == 504, response.text
    assert stock_of(shop, "TEE-002") == 15
    [failed] = shop.get("/orders", headers=payer).json()
    # The provider charged before its slow answer: the failed order's key is how that charge is found.
    assert failed["status"] == "failed" and provider.charges_made == 1


def test_an_order_larger_than_one_charge_is_422_and_takes_nothing(shop, payer, provider):
    admin = bearer(log_in_as_admin(shop)["access_token"])
    pricey = {"name": "Gold mug", "price": "99999.99", "stock": 100}
    assert shop.put("/admin/products/MUG-001", json=pricey, headers=admin).status_code == 200
    response = order(shop, payer, ("MUG-001", 20))
    assert response.status_code == 422, response.text
    assert "more than one payment may be" in response.text
    assert stock_of(shop, "MUG-001") == 100 and provider.ledger.calls == 0


@pytest.mark.parametrize(
    "items",
    [
        [],
        [{"sku": "MUG-001", "quantity": 1}, {"sku": "MUG-001", "quantity": 2}],
        [{"sku": "MUG-001", "quantity": 0}],
        [{"sku": "MUG-001", "quantity": 101}],
        [{"sku": "mug 1", "quantity": 1}],
        [{"sku": f"SKU-{n:03d}", "quantity": 1} for n in range(21)],
    ],
    ids=["empty", "a-sku-twice", "none-of-it", "too-many", "not-a-sku", "too-many-lines"],
)
def test_a_malformed_order_is_422(shop, payer, provider, items):
    response = shop.post("/orders", json={"items": items, "card_token": "tok_visa_4242424242"}, headers=payer)
    assert response.status_code == 422, response.text
    assert stock_of(shop, "MUG-001") == 40


def test_the_card_token_follows_the_payment_rules_and_is_never_echoed(shop, payer, provider):
    body = {"items": [{"sku": "MUG-001", "quantity": 1}], "card_token": "tok visa!secret"}
    response = shop.post("/orders", json=body, headers=payer)
    assert response.status_code == 422 and "secret" not in response.text


def test_an_order_needs_a_log_in(shop, provider):
    assert order(shop, ACME, ("MUG-001", 1)).status_code == 401


def test_only_its_owner_sees_an_order(shop, payer, provider):
    placed = order(shop, payer, ("MUG-001", 1)).json()
    register(shop, GRACE)
    grace = bearer(log_in(shop, GRACE["email"], GRACE["password"])["access_token"])
    assert shop.get(f"/orders/{placed['id']}", headers=grace).status_code == 404, "as if there were no such order"
    assert shop.get("/orders", headers=grace).json() == []
    assert [mine["id"] for mine in shop.get("/orders", headers=payer).json()] == [placed["id"]]


@pytest.fixture
def crowded_shop(provider, auth_env, services, tmp_path, monkeypatch) -> None:
    """Room for a hundred orders at once: a file database (the in-memory one is a single
    connection), and a wait for the products' locks that does not give up first."""
    if not services:
        monkeypatch.setenv("WORKBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    monkeypatch.setenv("WORKBOOK_RATE_LIMIT_PER_MINUTE", "1000")
    monkeypatch.setenv("WORKBOOK_ORDER_LOCK_WAIT_SECONDS", "30")


def test_a_hundred_orders_at_once_for_ten_in_stock_sell_exactly_ten(crowded_shop, stage_app, provider):
    with stage_app.running() as url:
        statuses, refusals, left = asyncio.run(order_at_once([url], 100, "MUG-001", stock=10))
    assert statuses == {201: 10, 409: 90}, f"ten sold, ninety refused: {statuses}"
    assert left == 0 and provider.charges_made == 10
    assert {refusal["detail"] for refusal in refusals} == {"Not enough stock of 'MUG-001': 1 asked, 0 left"}


@pytest.fixture
def one_connection_shop(pool_env, provider, stage_app) -> Iterator[TestClient]:
    """The shop with a pool of one connection that gives up after half a second."""
    yield from stage_app.serve()


def test_no_connection_is_held_while_the_card_is_charged(one_connection_shop, provider):
    shop = one_connection_shop
    ada = logged_in_ada(shop)
    provider.latency = 0.8  # under the app's 1 s deadline: the charge succeeds, slowly
    with ThreadPoolExecutor(1) as pool:
        placing = pool.submit(order, shop, ada, ("MUG-001", 1))
        while provider.ledger.calls == 0:  # until the provider has the charge, and sits on its answer
            time.sleep(0.01)
        during = shop.get("/health/pool").json()["checked_out"]
        meanwhile = shop.get("/orders", headers=ada)  # needs the pool's one connection
        placed = placing.result()
    assert placed.status_code == 201, placed.text
    assert during == 0, "the order's connection went back to the pool before the charge"
    assert meanwhile.status_code == 200, f"another request got the one connection during the charge: {meanwhile.text}"
    assert [pending["status"] for pending in meanwhile.json()] == ["pending"], "the order, seen while charged"


def test_no_connection_is_held_while_an_order_waits_for_its_turn(one_connection_shop, provider):
    shop = one_connection_shop
    ada = logged_in_ada(shop)
    redis = shop.app_state["redis"]
    shop.portal.call(partial(redis.set, "lock:product:acme:MUG-001", "another-order", ex=30))
    with ThreadPoolExecutor(1) as pool:
        placing = pool.submit(order, shop, ada, ("MUG-001", 1))  # waits up to 2 s for the mug's lock
        time.sleep(0.3)  # it has logged in, and waits
        meanwhile = shop.get("/orders", headers=ada)  # needs the pool's one connection
        shop.portal.call(redis.delete, "lock:product:acme:MUG-001")  # the other order is done
        placed = placing.result()
    assert meanwhile.status_code == 200, f"the waiting order held the one connection: {meanwhile.text}"
    assert placed.status_code == 201, placed.text

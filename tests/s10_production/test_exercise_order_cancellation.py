"""Exercise 10/order_cancellation: POST /orders/{order_id}/cancel puts the stock back exactly once."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from ..auth_helpers import ACME, GRACE, bearer, log_in, register
from ..order_helpers import both_at_once, order, stock_of
from ..payment_helpers import logged_in_ada


@pytest.fixture
def shop_on_file(provider, auth_env, services, tmp_path, monkeypatch, stage_app) -> Iterator[TestClient]:
    """The app on a SQLite file (or PostgreSQL with --services): the in-memory database is one
    connection, which two requests at once would share."""
    if not services:
        monkeypatch.setenv("WORKBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    yield from stage_app.serve()


@pytest.fixture
def ada(shop_on_file) -> dict:
    return logged_in_ada(shop_on_file)


def cancel(client: TestClient, headers: dict, order_id: int):
    return client.post(f"/orders/{order_id}/cancel", headers=headers)


def test_cancelling_a_paid_order_puts_its_stock_back(shop_on_file, ada):
    placed = order(shop_on_file, ada, ("MUG-001", 3), ("TEE-002", 2)).json()
    response = cancel(shop_on_file, ada, placed["id"])
    assert response.status_code == 200, f"the owner cancels a paid order: 200, got {response.text}"
    assert response.json()["status"] == "cancelled", "the answer is the order, now cancelled"
    assert (stock_of(shop_on_file, "MUG-001"), stock_of(shop_on_file, "TEE-002")) == (40, 15), (
        "every line's quantity is back on the shelf"
    )
    assert shop_on_file.get(f"/orders/{placed['id']}", headers=ada).json()["status"] == "cancelled", "and it stays so"
    assert shop_on_file.get("/products/MUG-001", headers=ACME).json()["stock"] == 40, (
        "GET /products/MUG-001 shows it too"
    )


def test_cancelling_twice_is_409_and_gives_nothing_back_the_second_time(shop_on_file, ada):
    placed = order(shop_on_file, ada, ("MUG-001", 3)).json()
    assert cancel(shop_on_file, ada, placed["id"]).status_code == 200
    again = cancel(shop_on_file, ada, placed["id"])
    assert again.status_code == 409, f"an order cancelled already: 409, got {again.status_code}"
    assert again.json()["detail"] == f"Order {placed['id']} is cancelled; only a paid order can be cancelled"
    assert stock_of(shop_on_file, "MUG-001") == 40, "three mugs went back once, not six"


def test_a_failed_order_cannot_be_cancelled(shop_on_file, ada, provider):
    provider.failure_rate = 1.0
    failed = order(shop_on_file, ada, ("MUG-001", 3))
    assert failed.status_code == 502
    [record] = shop_on_file.get("/orders", headers=ada).json()
    response = cancel(shop_on_file, ada, record["id"])
    assert response.status_code == 409, f"a failed order gave its stock back already: 409, got {response.status_code}"
    assert stock_of(shop_on_file, "MUG-001") == 40, "its stock went back when the charge failed, and only then"


def test_only_the_owner_may_cancel(shop_on_file, ada):
    placed = order(shop_on_file, ada, ("MUG-001", 3)).json()
    register(shop_on_file, GRACE)
    grace = bearer(log_in(shop_on_file, GRACE["email"], GRACE["password"])["access_token"])
    response = cancel(shop_on_file, grace, placed["id"])
    assert response.status_code == 404, f"someone else's order is answered as no order: 404, got {response.status_code}"
    assert cancel(shop_on_file, ada, 999_999).status_code == 404, "no such order: 404"
    assert stock_of(shop_on_file, "MUG-001") == 37, "Ada's order stands"
    assert shop_on_file.get(f"/orders/{placed['id']}", headers=ada).json()["status"] == "paid"


@pytest.mark.services
def test_two_cancels_at_once_put_the_stock_back_once(shop_on_file, ada):
    placed = order(shop_on_file, ada, ("MUG-001", 3)).json()
    engine = shop_on_file.app_state["pool"].engine
    # Both cancels read the order before either writes: one that reads "paid", then writes, sees it twice.
    answers = both_at_once(engine, lambda _: cancel(shop_on_file, ada, placed["id"]), range(2))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 409], f"one cancel wins, the other finds it cancelled: got {statuses}"
    assert stock_of(shop_on_file, "MUG-001") == 40, (
        f"the three mugs went back once (40 in stock), not twice: {stock_of(shop_on_file, 'MUG-001')}"
    )

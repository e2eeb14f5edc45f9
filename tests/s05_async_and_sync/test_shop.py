"""The shop's own routes still work at stage 05, beside the lab."""

from sqlalchemy import select

from lessons.s05_async_and_sync import lab
from lessons.s05_async_and_sync.main import app
from lessons.s05_async_and_sync.models import User

from .conftest import ACME, add_users


def test_the_lab_routes_are_kept_apart_under_lab():
    lab_paths = {route.path for route in lab.router.routes}
    served = set(app.openapi()["paths"])
    assert len(lab_paths) == 9 and lab_paths <= served
    assert all(path.startswith("/lab/") for path in lab_paths)


def test_products_are_listed(client):
    assert [product["sku"] for product in client.get("/products").json()] == ["MUG-001", "TEE-002", "CAP-003"]


def test_a_stored_user_is_found_by_the_shop_route(client):
    add_users(client, "acme", "ada@example.com")
    assert client.get("/users/1", headers=ACME).json()["name"] == "Ada"


def test_a_user_registered_by_the_shop_is_read_through_the_async_engine(client):
    response = client.post("/users/register", json={"email": "ada@example.com", "name": "Ada"}, headers=ACME)
    assert response.status_code == 201

    async def emails() -> list[str]:
        async with client.app_state["async_sessions"]["acme"]() as session:
            return list(await session.scalars(select(User.email)))

    assert client.portal.call(emails) == ["ada@example.com"]

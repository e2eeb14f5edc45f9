"""Exercise 01/pagination: GET /users lists users a page at a time."""

import pytest

NAMES = ["Ada", "Grace", "Edsger", "Barbara", "Donald"]


@pytest.fixture
def shop(client):
    for name in NAMES:
        client.post("/users", json={"email": f"{name.lower()}@example.com", "name": name})
    return client


def names(response) -> list[str]:
    assert response.status_code == 200, f"GET /users should answer 200, got {response.status_code}"
    return [user["name"] for user in response.json()]


def test_first_page_holds_everyone_in_registration_order(shop):
    assert names(shop.get("/users")) == NAMES, "with no parameters, GET /users should list all 5 users, oldest first"


def test_limit_and_offset_choose_the_page(shop):
    assert names(shop.get("/users?limit=2&offset=1")) == ["Grace", "Edsger"], (
        "?limit=2&offset=1 should skip Ada and answer the next two"
    )


def test_offset_past_the_end_is_an_empty_page(shop):
    assert names(shop.get("/users?offset=10")) == [], "an offset past the last user should answer []"


def test_users_are_answered_in_the_public_shape(shop):
    first = shop.get("/users?limit=1").json()
    assert first == [{"id": 1, "email": "ada@example.com", "name": "Ada"}], "each user is answered as a UserOut"


def test_offsets_are_bounded_below_what_a_database_can_count(shop):
    # SQLite counts to 2**63 - 1: a larger offset used to reach it and fail as a 500.
    response = shop.get(f"/users?offset={2**63}")
    assert response.status_code == 422, f"an offset of 2**63 should answer 422, got {response.status_code}"
    assert names(shop.get("/users?offset=1000000")) == [], "the largest offset allowed answers an empty page"

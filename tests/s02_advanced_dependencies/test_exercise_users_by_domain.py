"""Exercise 02/users_by_domain: GET /users?domain=... lists the tenant's users at one email domain."""

import pytest

from lessons.s02_advanced_dependencies.dependencies import get_user_repository
from lessons.s02_advanced_dependencies.main import app
from lessons.s02_advanced_dependencies.repositories import InMemoryUserRepository

from .conftest import ACME, GLOBEX

# Registration lower-cases the domain (EmailStr normalizes it), so edsger is stored at example.com.
EMAILS = ["ada@example.com", "grace@navy.example", "edsger@EXAMPLE.com", "barbara@myexample.com"]


@pytest.fixture(params=["sqlalchemy", "in-memory"])
def shop(request, client):
    """Four acme users, stored by the adapter the test is parametrized with."""
    if request.param == "in-memory":
        memory = InMemoryUserRepository()
        app.dependency_overrides[get_user_repository] = lambda: memory
    for email in EMAILS:
        client.post("/users", json={"email": email, "name": email.split("@")[0].title()}, headers=ACME)
    return client


def emails(response) -> list[str]:
    assert response.status_code == 200, f"GET /users?domain=... should answer 200, got {response.status_code}"
    return [user["email"] for user in response.json()]


def test_users_at_the_domain_in_id_order(shop):
    assert emails(shop.get("/users?domain=example.com", headers=ACME)) == [
        "ada@example.com",
        "edsger@example.com",
    ], "example.com should match ada and edsger, not barbara@myexample.com"


def test_the_domain_asked_for_in_any_case_matches(shop):
    assert emails(shop.get("/users?domain=NAVY.Example", headers=ACME)) == ["grace@navy.example"], (
        "domains are compared without regard to letter case"
    )


def test_no_match_is_an_empty_list(shop):
    assert emails(shop.get("/users?domain=nowhere.example", headers=ACME)) == [], "no user there: answer []"


def test_users_are_answered_in_the_public_shape(shop):
    response = shop.get("/users?domain=navy.example", headers=ACME)
    assert response.status_code == 200, f"GET /users?domain=... should answer 200, got {response.status_code}"
    assert response.json() == [{"id": 2, "email": "grace@navy.example", "name": "Grace"}]


def test_only_the_requests_tenant_is_searched(client):
    client.post("/users", json={"email": "ada@example.com", "name": "Ada"}, headers=GLOBEX)
    assert emails(client.get("/users?domain=example.com", headers=ACME)) == [], "globex's users are not acme's"

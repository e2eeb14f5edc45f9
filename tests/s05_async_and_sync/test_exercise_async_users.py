"""Exercise 05/async_users: GET /lab/async/users lists the tenant's users through the AsyncSession."""

import inspect

from fastapi import HTTPException

from lessons.s05_async_and_sync.dependencies import get_session
from lessons.s05_async_and_sync.exercises.async_users import async_users
from lessons.s05_async_and_sync.main import app

from .conftest import ACME, GLOBEX, add_users


def users(client, headers=ACME, **params) -> list[dict]:
    response = client.get("/lab/async/users", headers=headers, params=params)
    assert response.status_code == 200, f"GET /lab/async/users should answer 200, got {response.status_code}"
    return response.json()


def test_lists_the_tenants_users_in_id_order(client):
    add_users(client, "acme", "grace@example.com", "ada@example.com")
    assert users(client) == [
        {"id": 1, "email": "grace@example.com", "name": "Grace"},
        {"id": 2, "email": "ada@example.com", "name": "Ada"},
    ], "both acme users, as UserOut, in the order they were stored (id order)"


def test_each_tenant_sees_only_its_own_users(client):
    add_users(client, "acme", "ada@example.com")
    add_users(client, "globex", "hank@example.com")
    assert [user["email"] for user in users(client, GLOBEX)] == ["hank@example.com"], "globex sees only hank"


def test_a_tenant_without_users_gets_an_empty_list(client):
    add_users(client, "acme", "ada@example.com")
    assert users(client, GLOBEX) == [], "globex has no users yet: []"


def test_limit_caps_the_list(client):
    add_users(client, "acme", "a@example.com", "b@example.com", "c@example.com")
    assert [user["email"] for user in users(client, limit=2)] == ["a@example.com", "b@example.com"], (
        "limit=2 answers the first two users"
    )


def test_it_reads_through_the_async_session_on_the_event_loop(client):
    def no_blocking_session():
        raise HTTPException(500, "the route asked for the blocking Session")

    add_users(client, "acme", "ada@example.com")
    app.dependency_overrides[get_session] = no_blocking_session
    assert [user["email"] for user in users(client)] == ["ada@example.com"], (
        "use AsyncSessionDep, not SessionDep: this test takes the blocking Session away"
    )
    assert inspect.iscoroutinefunction(async_users), "the route should stay `async def`"

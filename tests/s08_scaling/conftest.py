"""Stage 08's app, handed to the fixtures and helpers every stage with tokens shares
(tests/auth_fixtures.py, auth_helpers.py), and the roles this stage adds."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from lessons.s08_scaling.main import app
from lessons.s08_scaling.settings import get_settings

# client, limited_client, ada and auth_env, written once for every stage with tokens: pytest offers
# a folder's tests the fixtures its conftest.py holds, imported ones included.
from ..auth_fixtures import *  # noqa: F403
from ..auth_helpers import GRACE, bearer, log_in, log_in_as_admin, register
from ..stage_apps import StageApp

STAGE = StageApp(app, "lessons.s08_scaling.main:app", get_settings)


@pytest.fixture
def stage_app() -> StageApp:
    return STAGE


def set_role(client: TestClient, user_id: int, role: str, tenant: str = "acme") -> dict:
    admin = log_in_as_admin(client, tenant)
    response = client.put(
        f"/admin/users/{user_id}/role",
        json={"role": role},
        headers=bearer(admin["access_token"], {"X-Tenant-ID": tenant}),
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def grace(client) -> dict:
    """Grace, registered in acme, made staff, then logged in."""
    user = register(client, GRACE)
    set_role(client, user["id"], "staff")
    return {"user": {**user, "role": "staff"}, **log_in(client, GRACE["email"], GRACE["password"])}


@pytest.fixture
def admin(client) -> dict:
    return log_in_as_admin(client)


@pytest.fixture
def stale_token_detail() -> str:
    """What a token issued before its user's last password or role change gets back: in this
    stage a role change bumps the token version too, and the message says so."""
    return "The token was issued before a password or role change; log in again"


@pytest.fixture
def pool_env(auth_env, services, monkeypatch, tmp_path) -> None:
    """A pool of one connection, no overflow, that gives up after half a second.

    On a file database by default: the in-memory one is a single shared connection
    that never runs out, so there is no pool to exhaust. With --services, PostgreSQL.
    """
    if not services:
        monkeypatch.setenv("WORKBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    monkeypatch.setenv("WORKBOOK_POOL_SIZE", "1")
    monkeypatch.setenv("WORKBOOK_MAX_OVERFLOW", "0")
    monkeypatch.setenv("WORKBOOK_POOL_TIMEOUT", "0.5")


@pytest.fixture
def small_pool_client(pool_env, stage_app: StageApp):
    yield from stage_app.serve()


@contextmanager
def holding_every_connection(client: TestClient) -> Iterator[list]:
    """Check out every connection the app's pool may open, from outside any request; give them back after."""
    watch = client.app_state["pool"]
    connections = [watch.engine.connect() for _ in range(watch.size + watch.max_overflow)]
    try:
        yield connections
    finally:
        for connection in connections:
            connection.close()

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lessons.s07_authorization.main import app
from lessons.s07_authorization.settings import get_settings
from lessons.s07_authorization.tokens import TokenClaims, TokenService

ACME = {"X-Tenant-ID": "acme"}
GLOBEX = {"X-Tenant-ID": "globex"}
RATE_LIMIT = 3
LOGIN_LIMIT = 4
ADMIN_PASSWORD = "storefront-demo-admin"
ADA = {"email": "ada@example.com", "name": "Ada Lovelace", "password": "correct horse battery"}
GRACE = {"email": "grace@example.com", "name": "Grace Hopper", "password": "cobol forever 1959"}


@pytest.fixture
def auth_env(stage_env, monkeypatch) -> None:
    # bcrypt at its lowest cost: a real hash, a thousandth of the default's time.
    monkeypatch.setenv("WORKBOOK_BCRYPT_ROUNDS", "4")


def serve(**options) -> Iterator[TestClient]:
    get_settings.cache_clear()  # read the WORKBOOK_* variables the fixtures just set
    with TestClient(app, **options) as client:
        yield client
    app.dependency_overrides.clear()
    get_settings.cache_clear()


@pytest.fixture
def client(auth_env) -> Iterator[TestClient]:
    yield from serve()


@pytest.fixture
def limited_client(auth_env, monkeypatch) -> Iterator[TestClient]:
    """Small limits: RATE_LIMIT requests a minute on the user routes, LOGIN_LIMIT log-in attempts."""
    monkeypatch.setenv("WORKBOOK_RATE_LIMIT_PER_MINUTE", str(RATE_LIMIT))
    monkeypatch.setenv("WORKBOOK_LOGIN_ATTEMPTS_PER_MINUTE", str(LOGIN_LIMIT))
    yield from serve()


def register(client: TestClient, user: dict = ADA, headers: dict = ACME) -> dict:
    response = client.post("/users/register", json=user, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["user"]


def log_in(client: TestClient, email: str, password: str, headers: dict = ACME, **form) -> dict:
    response = client.post("/token", data={"username": email, "password": password, **form}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def log_in_as_admin(client: TestClient, tenant: str = "acme") -> dict:
    return log_in(client, f"admin@{tenant}.example", ADMIN_PASSWORD, headers={"X-Tenant-ID": tenant})


def bearer(token: str, headers: dict = ACME) -> dict:
    return {**headers, "Authorization": f"Bearer {token}"}


def token_service(client: TestClient) -> TokenService:
    return client.app_state["tokens"]


def claims_of(client: TestClient, token: str, expected: str = "access") -> TokenClaims:
    return token_service(client).decode(token, expected=expected)


@pytest.fixture
def ada(client) -> dict:
    """Ada, registered in acme and logged in: her user and her token pair."""
    user = register(client, ADA)
    return {"user": user, **log_in(client, ADA["email"], ADA["password"])}


def run_redis(client: TestClient, command: str, *args):
    """Run one command on the app's own Redis client, in the app's event loop."""
    return client.portal.call(getattr(client.app_state["redis"], command), *args)


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

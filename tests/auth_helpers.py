"""Helpers for the stages with log-in and tokens (06 onwards).

Nothing here imports a stage: each stage's conftest.py hands over its app as a
StageApp (tests/stage_apps.py; the `stage_app` fixture, which auth_fixtures.py starts),
and the helpers reach the app's own objects through the TestClient
(`client.app_state["tokens"]` and so on). So the same helpers, fixtures and
shared tests (token_*.py) serve every one of those stages.
"""

import base64
import json

import jwt
from fastapi.testclient import TestClient

ACME = {"X-Tenant-ID": "acme"}
GLOBEX = {"X-Tenant-ID": "globex"}
RATE_LIMIT = 3
LOGIN_LIMIT = 4
ADMIN_PASSWORD = "storefront-demo-admin"
ADA = {"email": "ada@example.com", "name": "Ada Lovelace", "password": "correct horse battery"}
GRACE = {"email": "grace@example.com", "name": "Grace Hopper", "password": "cobol forever 1959"}


# --- Users and tokens ---------------------------------------------------------------------------


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


def me(client: TestClient, token: str, headers: dict = ACME):
    return client.get("/users/me", headers=bearer(token, headers))


def token_service(client: TestClient):
    """The stage's own TokenService, the one its routes sign and check tokens with."""
    return client.app_state["tokens"]


def claims_of(client: TestClient, token: str, expected: str = "access"):
    return token_service(client).decode(token, expected=expected)


# --- Forging tokens -----------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: dict) -> str:
    return b64(json.dumps(value).encode())


def claims_for(client, ada: dict, **changes) -> dict:
    """Ada's real access-token claims with `changes` applied (None removes a claim).

    Starting from a live token (its jti and family exist) means each attack
    fails for the ONE thing it changed: test_the_unchanged_claims_re_signed_are_accepted
    proves the starting point works.
    """
    claims = jwt.decode(ada["access_token"], options={"verify_signature": False})
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def sign(client, claims: dict) -> str:
    return token_service(client).encode(claims)


def assert_refused(response, detail: str | None = None) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    if detail is not None:
        assert response.json() == {"detail": detail}

"""Helpers for the stages with log-in and tokens (06 onwards).

Nothing here imports a stage: the `stage_app` fixture hands over the app as a StageApp
(tests/stage_apps.py), and the helpers reach the app's own objects through the TestClient
(`client.app_state["tokens"]` and so on). So the same helpers, the fixtures of
auth_fixtures.py and the shared tests (test_token_*.py, test_roles_*.py) serve every one
of those stages. Where those stages answer differently, LogInRules says how, by what a
stage has rather than by its number.
"""

import base64
import json
from dataclasses import dataclass

from fastapi.testclient import TestClient

ACME = {"X-Tenant-ID": "acme"}
GLOBEX = {"X-Tenant-ID": "globex"}
RATE_LIMIT = 3
LOGIN_LIMIT = 4
ADMIN_PASSWORD = "storefront-demo-admin"
ADA = {"email": "ada@example.com", "name": "Ada Lovelace", "password": "correct horse battery"}
GRACE = {"email": "grace@example.com", "name": "Grace Hopper", "password": "cobol forever 1959"}
# What a stage's API exposes when it has log-in, and when it has roles too (stage 07 onwards).
LOG_IN = ("/token",)
ROLES = (*LOG_IN, "/admin/users/{user_id}/role")


# --- What the stages with log-in answer differently ---------------------------------------------


@dataclass(frozen=True)
class LogInRules:
    """The answers that differ between a stage with tokens only and one with roles and scopes."""

    challenge: str  # WWW-Authenticate of /users/me asked with no token: it names what the route needs
    scopes: frozenset[str]  # the scopes the password flow declares
    security: dict[tuple[str, str], list]  # (path, method) -> the route's security in the OpenAPI schema
    new_user: dict  # what a new user is answered with besides id, email and name
    stale_token_detail: str  # what a token issued before the user's version last changed gets back


TOKENS_ONLY = LogInRules(
    challenge="Bearer",
    scopes=frozenset({"admin"}),
    security={("/users/me", "get"): [{"OAuth2PasswordBearer": []}]},
    new_user={"is_admin": False},
    stale_token_detail="The token was issued before a password change; log in again",
)
WITH_ROLES = LogInRules(
    challenge='Bearer scope="me"',
    scopes=frozenset({"me", "users:read", "users:write", "admin"}),
    # Each route's scopes are in the description, so the Authorize dialog can offer them.
    security={
        ("/users/me", "get"): [{"OAuth2PasswordBearer": ["me"]}],
        ("/admin/users/{user_id}", "delete"): [{"OAuth2PasswordBearer": ["admin"]}],
    },
    new_user={"role": "customer"},
    # A role change bumps the token version too, and the message says so.
    stale_token_detail="The token was issued before a password or role change; log in again",
)


def rules_for(app) -> LogInRules:
    return WITH_ROLES if set(ROLES) <= app.openapi()["paths"].keys() else TOKENS_ONLY


# --- Users and tokens ---------------------------------------------------------------------------


def register(client: TestClient, user: dict = ADA, headers: dict = ACME) -> dict:
    """Register `user`; returns the new user. Tests read the id from here, and only here."""
    response = client.post("/users/register", json=user, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["user"]


def log_in(client: TestClient, email: str, password: str, headers: dict = ACME, **form) -> dict:
    response = client.post("/token", data={"username": email, "password": password, **form}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def log_in_as_admin(client: TestClient, tenant: str = "acme") -> dict:
    return log_in(client, f"admin@{tenant}.example", ADMIN_PASSWORD, headers={"X-Tenant-ID": tenant})


def set_role(client: TestClient, user_id: int, role: str, tenant: str = "acme") -> dict:
    """The demo admin gives the user `role` (stages with roles)."""
    admin = log_in_as_admin(client, tenant)
    response = client.put(
        f"/admin/users/{user_id}/role",
        json={"role": role},
        headers=bearer(admin["access_token"], {"X-Tenant-ID": tenant}),
    )
    assert response.status_code == 200, response.text
    return response.json()


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
    # Imported here: tests/conftest.py imports this module, and `make check` on a stage
    # without tokens should not pay for PyJWT.
    import jwt

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

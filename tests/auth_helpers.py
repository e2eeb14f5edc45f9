"""Helpers for the stages with log-in and tokens (06 onwards).

Nothing here imports a stage: the `stage_app` fixture hands over the app as a StageApp
(tests/stage_apps.py), and the helpers reach the app's own objects through the TestClient
(`client.app_state["tokens"]` and so on). So the same helpers, the fixtures of
auth_fixtures.py and the shared tests (test_token_*.py, test_roles_*.py) serve every one
of those stages. Where those stages answer differently, LogInRules says how, by what a
stage has rather than by its number.
"""

import base64
import importlib
import json
import sys
from dataclasses import dataclass
from types import ModuleType

from fastapi.testclient import TestClient
from sqlalchemy import select

from .problems import error_body

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
    """Register `user` and confirm the email as its owner would, with the code a welcome email carries.

    Answers the user as the API shows it (UserOut), read from the app's database: the
    registration's own answer no longer names the user, so it cannot tell who exists.
    Tests read the id from here, and only here.
    """
    response = client.post("/users/register", json=user, headers=headers)
    assert response.status_code == 202, response.text
    confirmed = client.post(
        "/users/confirm-email", json={"code": confirmation_code(client, user["email"], headers)}, headers=headers
    )
    assert confirmed.status_code == 204, confirmed.text
    return user_as_shown(client, user["email"], headers)


def stored_user(client: TestClient, email: str, headers: dict = ACME):
    """The stage's User row for `email`, straight from the app's database (None if there is none)."""
    user_model = stage_module(client, "models").User
    with client.app_state["tenants"].get(headers["X-Tenant-ID"]).sessions() as session:
        user = session.scalar(select(user_model).where(user_model.email == email))
        if user is not None:
            session.expunge(user)
        return user


def stage_module(client: TestClient, name: str) -> ModuleType:
    """A module of the stage whose app `client` serves: a sibling of the `main` module that holds the app."""
    main = next(
        module
        for module_name, module in list(sys.modules.items())
        if module_name.endswith(".main") and getattr(module, "app", None) is client.app
    )
    return importlib.import_module(f"{main.__package__}.{name}")


def confirmation_code(client: TestClient, email: str, headers: dict = ACME) -> str:
    """The code the welcome email would carry, made by the app's own token service."""
    user = stored_user(client, email, headers)
    assert user is not None, f"{email} has no account"
    issued = token_service(client).issue(
        "confirm_email",
        user_id=user.id,
        tenant=headers["X-Tenant-ID"],
        version=user.token_version,
        scopes=[],
        family="0" * 32,
    )
    return issued.token


def user_as_shown(client: TestClient, email: str, headers: dict = ACME) -> dict:
    """The fields of UserOut, as this stage's schema lists them, for the stored user."""
    fields = client.app.openapi()["components"]["schemas"]["UserOut"]["properties"]
    user = stored_user(client, email, headers)
    return {name: getattr(user, name) for name in fields}


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
        assert error_body(response) == {"detail": detail}

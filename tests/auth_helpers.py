"""Helpers for the stages with log-in and tokens (06 onwards).

Nothing here imports a stage: each stage's conftest.py hands over its app as a
StageApp (tests/stage_apps.py; the `stage_app` fixture, which auth_fixtures.py starts),
and the helpers reach the app's own objects through the TestClient
(`client.app_state["tokens"]` and so on). So the same helpers, fixtures and
shared tests (token_*.py) serve every one of those stages.
"""

import base64
import importlib
import json
import sys
from types import ModuleType

import jwt
from fastapi.testclient import TestClient
from sqlalchemy import select

ACME = {"X-Tenant-ID": "acme"}
GLOBEX = {"X-Tenant-ID": "globex"}
RATE_LIMIT = 3
LOGIN_LIMIT = 4
ADMIN_PASSWORD = "storefront-demo-admin"
ADA = {"email": "ada@example.com", "name": "Ada Lovelace", "password": "correct horse battery"}
GRACE = {"email": "grace@example.com", "name": "Grace Hopper", "password": "cobol forever 1959"}


# --- Users and tokens ---------------------------------------------------------------------------


def register(client: TestClient, user: dict = ADA, headers: dict = ACME) -> dict:
    """Register `user` and confirm the email as its owner would, with the code a welcome email carries.

    Answers the user as the API shows it (UserOut), read from the app's database: the
    registration's own answer no longer names the user, so it cannot tell who exists.
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
        for name, module in list(sys.modules.items())
        if name.endswith(".main") and getattr(module, "app", None) is client.app
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

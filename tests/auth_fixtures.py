"""Fixtures for the stages with log-in and tokens (06 onwards), written once for all of them.

tests/conftest.py imports them, so every test may ask for them; each runs the app that the
nearest `stage_app` fixture names: a stage folder's conftest.py names its stage, and a module
of shared tests (test_token_*.py, test_roles_*.py) names each stage that exposes what it tests.
"""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from .auth_helpers import (
    ADA,
    GRACE,
    LOGIN_LIMIT,
    RATE_LIMIT,
    LogInRules,
    log_in,
    log_in_as_admin,
    register,
    rules_for,
    set_role,
)
from .stage_apps import StageApp

__all__ = ["ada", "admin", "auth_env", "client", "grace", "jwt_library", "limited_client", "rules"]


@pytest.fixture
def auth_env(stage_env, monkeypatch) -> None:
    # bcrypt at its lowest cost: a real hash, a thousandth of the default's time.
    monkeypatch.setenv("WORKBOOK_BCRYPT_ROUNDS", "4")


@pytest.fixture(params=["pyjwt", "jose"])
def jwt_library(request, stage_app: StageApp) -> str:
    """Each JWT library the token service can use, in turn. A module whose tests must hold with
    both sets WORKBOOK_JWT_LIBRARY to it in an auth_env of its own (test_token_attacks.py).
    A stage without the setting signs with PyJWT alone: its tests run once, as "pyjwt"."""
    if request.param != "pyjwt" and not stage_app.has_setting("jwt_library"):
        pytest.skip("this stage signs its tokens with PyJWT alone (no jwt_library setting)")
    return request.param


@pytest.fixture
def client(auth_env, stage_app: StageApp) -> Iterator[TestClient]:
    yield from stage_app.serve()


@pytest.fixture
def limited_client(auth_env, stage_app: StageApp, monkeypatch) -> Iterator[TestClient]:
    """Small limits: RATE_LIMIT requests a minute on the user routes, LOGIN_LIMIT log-in attempts."""
    monkeypatch.setenv("WORKBOOK_RATE_LIMIT_PER_MINUTE", str(RATE_LIMIT))
    monkeypatch.setenv("WORKBOOK_LOGIN_ATTEMPTS_PER_MINUTE", str(LOGIN_LIMIT))
    yield from stage_app.serve()


@pytest.fixture
def rules(stage_app: StageApp) -> LogInRules:
    """How this stage answers where the stages with log-in differ."""
    return rules_for(stage_app.app)


@pytest.fixture
def ada(client) -> dict:
    """Ada, registered in acme and logged in: her user and her token pair."""
    user = register(client, ADA)
    return {"user": user, **log_in(client, ADA["email"], ADA["password"])}


@pytest.fixture
def grace(client) -> dict:
    """Grace, registered in acme, made staff, then logged in (stages with roles)."""
    user = register(client, GRACE)
    set_role(client, user["id"], "staff")
    return {"user": {**user, "role": "staff"}, **log_in(client, GRACE["email"], GRACE["password"])}


@pytest.fixture
def admin(client) -> dict:
    """The demo admin of acme, logged in."""
    return log_in_as_admin(client)

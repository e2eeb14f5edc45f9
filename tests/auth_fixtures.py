"""Fixtures for the stages with log-in and tokens (06 onwards), written once for all of them.

A stage's conftest.py star-imports this module, which is what makes pytest offer these fixtures
to that folder's tests, and provides `stage_app`: the app they start.
"""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from .auth_helpers import ADA, LOGIN_LIMIT, RATE_LIMIT, log_in, register
from .stage_apps import StageApp

__all__ = ["ada", "auth_env", "client", "limited_client"]


@pytest.fixture
def auth_env(stage_env, monkeypatch) -> None:
    # bcrypt at its lowest cost: a real hash, a thousandth of the default's time.
    monkeypatch.setenv("WORKBOOK_BCRYPT_ROUNDS", "4")


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
def ada(client) -> dict:
    """Ada, registered in acme and logged in: her user and her token pair."""
    user = register(client, ADA)
    return {"user": user, **log_in(client, ADA["email"], ADA["password"])}

"""Fixtures for the stages that scale (08 onwards): a small connection pool, and the fake
payment provider beside the app. Written once for all of them.

tests/conftest.py imports them, so every test may ask for them; each runs the app that the
nearest `stage_app` fixture names: a stage folder's conftest.py names its stage, and a module
of shared tests (test_pool.py, test_payments.py, ...) names each stage that exposes what it tests.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from workbook.payment_provider import PaymentProvider, payment_env

from .payment_helpers import DEADLINE_SECONDS, logged_in_ada
from .stage_apps import StageApp

__all__ = ["payer", "pool_env", "provider", "shop", "small_pool_client"]


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
def small_pool_client(pool_env, stage_app: StageApp) -> Iterator[TestClient]:
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


# --- The fake payment provider beside the app (payment_helpers.py has the helpers) ---


@pytest.fixture
def provider(tmp_path, monkeypatch) -> Iterator[PaymentProvider]:
    with PaymentProvider(tmp_path / "provider") as running:
        for name, value in payment_env(running).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("WORKBOOK_PAYMENT_DEADLINE_SECONDS", str(DEADLINE_SECONDS))
        monkeypatch.setenv("WORKBOOK_PAYMENT_PENDING_SECONDS", "5")
        yield running


@pytest.fixture
def shop(provider, auth_env, stage_app: StageApp) -> Iterator[TestClient]:
    """The app, told where the provider is and to trust its certificate authority."""
    yield from stage_app.serve()


@pytest.fixture
def payer(shop) -> dict:
    """Ada's headers, registered and logged in."""
    return logged_in_ada(shop)

"""The fake payment provider beside stage 08's app, for the payment and HTTP client tests.

A test module imports the fixtures it uses (pytest offers a module the fixtures it holds,
imported ones included): `provider`, `shop` (the app, told where the provider is and to
trust its certificate authority) and `payer` (Ada's headers, logged in).
"""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from workbook.payment_provider import PaymentProvider, payment_env

from ..auth_helpers import ADA, bearer, log_in, register
from ..stage_apps import StageApp

__all__ = ["payer", "provider", "shop"]

CARD = {"amount": 1250, "currency": "EUR", "card_token": "tok_visa_4242424242"}
DEADLINE_SECONDS = 1.0  # the app's deadline for a charge: a provider slower than this answers 504


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
    yield from stage_app.serve()


def logged_in_ada(client: TestClient) -> dict:
    """Ada's headers: a customer, registered and logged in, in acme."""
    register(client, ADA)
    return bearer(log_in(client, ADA["email"], ADA["password"])["access_token"])


@pytest.fixture
def payer(shop) -> dict:
    return logged_in_ada(shop)


def pay(client, headers: dict, key: str, **changes):
    return client.post("/payments", json={**CARD, **changes}, headers={**headers, "Idempotency-Key": key})

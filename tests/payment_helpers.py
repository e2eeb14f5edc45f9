"""Paying in tests: a card, the app's deadline, Ada logged in, and one payment.

The fixtures that start the fake provider beside the app (`provider`, `shop`, `payer`)
are in scaling_fixtures.py, which tests/conftest.py offers to every test.
"""

from fastapi.testclient import TestClient

from .auth_helpers import ADA, bearer, log_in, register

CARD = {"amount": 1250, "currency": "EUR", "card_token": "tok_visa_4242424242"}
DEADLINE_SECONDS = 1.0  # the app's deadline for a charge: a provider slower than this answers 504


def logged_in_ada(client: TestClient) -> dict:
    """Ada's headers: a customer, registered and logged in, in acme."""
    register(client, ADA)
    return bearer(log_in(client, ADA["email"], ADA["password"])["access_token"])


def pay(client, headers: dict, key: str, **changes):
    return client.post("/payments", json={**CARD, **changes}, headers={**headers, "Idempotency-Key": key})

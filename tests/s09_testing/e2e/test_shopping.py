"""A customer's whole journey, over HTTP, with nothing in the test's process but the HTTP client.

The slowest level and the fewest tests: each proves that the processes fit
together (the app queues on the broker, the worker reads the same database and
sends through the mail server, the app calls the provider), which no lower level can.
"""

import uuid

import httpx2
import pytest

from ...auth_helpers import ACME, bearer
from ...payment_helpers import CARD
from ...stack_tiers import new_customer, register_and_confirm

pytestmark = pytest.mark.e2e


def confirmed_token(http: httpx2.Client, mailbox, customer: dict) -> str:
    """Register, confirm with the code the welcome email carries, log in: the access token."""
    register_and_confirm(http, mailbox, customer)
    form = {"username": customer["email"], "password": customer["password"]}
    response = http.post("/token", data=form)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture
def http(stack):
    with httpx2.Client(base_url=stack.app_url, headers=ACME, timeout=10) as client:
        yield client


def test_a_new_customer_confirms_by_email_then_logs_in(stack, http):
    customer = new_customer()
    token = confirmed_token(http, stack.mail.directory, customer)
    assert http.get("/users/me", headers=bearer(token)).json()["email"] == customer["email"]


def test_a_logged_in_customer_reads_a_product_and_pays_for_it(stack, http):
    token = confirmed_token(http, stack.mail.directory, new_customer())
    mug = http.get("/products/MUG-001").json()
    assert mug["name"] == "Enamel mug"
    key = {"Idempotency-Key": f"order-{uuid.uuid4().hex[:12]}"}
    response = http.post("/payments", json=CARD, headers={**bearer(token), **key})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "succeeded"

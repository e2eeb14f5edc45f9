"""The fake payment provider (workbook/payment_provider.py) on its own, and `make serve`
starting it for a stage with payments.py. The provider's own tests run once; the tests of a
stage with payments run against every stage whose API takes payments.
"""

import httpx2
import pytest

from workbook.payment_provider import PaymentProvider, has_payments
from workbook.stack import running_stack
from workbook.stages import get_stage

from .auth_helpers import ACME, ADMIN_PASSWORD, bearer
from .stage_apps import stage_app_fixture

stage_app = stage_app_fixture("/payments")

CHARGE = {"amount": 500, "currency": "USD", "card_token": "tok_test_1881"}


@pytest.fixture
def provider(tmp_path):
    with PaymentProvider(tmp_path) as running:
        yield running


def charge(provider: PaymentProvider, key: str, **options) -> httpx2.Response:
    with httpx2.Client(verify=provider.trusted_by(), **options) as client:
        return client.post(f"{provider.url}/v1/charges", json=CHARGE, headers={"Idempotency-Key": key})


def test_the_provider_speaks_https_with_a_certificate_from_its_own_authority(provider):
    assert charge(provider, "key-1").status_code == 201
    with pytest.raises(httpx2.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx2.post(f"{provider.url}/v1/charges", json=CHARGE)  # the system's authorities never signed it


def test_the_provider_charges_once_per_idempotency_key(provider):
    first, again = charge(provider, "key-1"), charge(provider, "key-1")
    assert (first.status_code, again.status_code) == (201, 200) and first.json() == again.json()
    assert first.json()["card_last4"] == "1881" and "tok_test" not in first.text, "the token is never repeated"
    assert charge(provider, "key-2").json()["id"] != first.json()["id"]
    with httpx2.Client(verify=provider.trusted_by()) as client:
        stats = client.get(f"{provider.url}/v1/stats").json()
    # Each charge() above opened a client, and so a connection, of its own; this is the fourth.
    assert stats == {"charges": 2, "calls": 3, "connections": 4}


def test_a_failing_provider_charges_nothing(provider):
    provider.failure_rate = 1.0
    assert charge(provider, "key-1").status_code == 503
    assert provider.charges_made == 0


def test_a_charge_is_made_before_the_slow_answer_a_client_gave_up_on(provider):
    provider.latency = 1.0
    with pytest.raises(httpx2.ReadTimeout):
        charge(provider, "key-1", timeout=0.2)
    assert provider.charges_made == 1, "the client cannot know this: only a retry with the key can find out"


def test_a_stopped_provider_refuses_connections_and_comes_back_trusted(provider):
    provider.stop()
    with pytest.raises(httpx2.ConnectError):
        charge(provider, "key-1")
    provider.start()
    assert charge(provider, "key-1").status_code == 201, "the same certificate authority after a restart"


def test_the_stages_with_a_payment_service_are_found_by_their_payments_py(stage_app):
    assert has_payments(get_stage(stage_app.number))
    assert not has_payments(get_stage("07"))


def test_make_serve_starts_the_provider_beside_the_app_for_a_stage_with_payments(stage_app, tmp_path):
    with running_stack(get_stage(stage_app.number), mailbox=tmp_path) as stack:
        assert stack.payments is not None
        assert stack.env["WORKBOOK_PAYMENT_PROVIDER_URL"] == stack.payments.url
        with httpx2.Client(base_url=stack.app_url, headers=ACME, timeout=30) as app:
            login = app.post("/token", data={"username": "admin@acme.example", "password": ADMIN_PASSWORD})
            headers = {**bearer(login.json()["access_token"]), "Idempotency-Key": "served-0001"}
            response = app.post("/payments", json=CHARGE, headers=headers)
        assert response.status_code == 201, response.text
        assert stack.payments.charges_made == 1

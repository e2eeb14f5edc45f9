"""POST /payments: a card charged once per Idempotency-Key through the real HTTPS provider,
and every way the provider can fail answered with a gateway status, never a 500.

They run against every stage whose API takes payments, each stage's app in turn; the fixtures
that start the provider beside the app (provider, shop, payer) are in scaling_fixtures.py.
"""

import asyncio
import logging
from contextlib import contextmanager

import httpx2
import pytest

from .auth_helpers import ACME, ADMIN_PASSWORD, bearer, log_in_as_admin
from .payment_helpers import CARD, DEADLINE_SECONDS, logged_in_ada, pay
from .problems import problems
from .stage_apps import stage_app_fixture

stage_app = stage_app_fixture("/payments")

pytestmark = pytest.mark.services  # Redis holds the idempotency records: both tiers


def test_a_payment_charges_the_card_at_the_https_provider(shop, payer, provider):
    response = pay(shop, payer, "order-0001")
    assert response.status_code == 201, response.text
    payment = response.json()
    assert payment["amount"] == 1250 and payment["currency"] == "EUR" and payment["status"] == "succeeded"
    assert provider.charges_made == 1
    [charge] = provider.ledger.charges.values()
    assert charge["id"] == payment["id"], "the answer carries the provider's own charge id"


def test_a_retry_with_the_same_key_answers_the_first_payment_and_charges_once(shop, payer, provider):
    first = pay(shop, payer, "order-0001")
    again = pay(shop, payer, "order-0001")
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert provider.charges_made == provider.ledger.calls == 1, "the retry was answered from the stored result"
    assert pay(shop, payer, "order-0002").json()["id"] != first.json()["id"], "a new key is a new payment"
    assert provider.charges_made == 2


def test_twenty_concurrent_retries_with_one_key_charge_once(provider, auth_env, stage_app):
    provider.latency = 0.6  # the first charge is still in flight while the others arrive

    async def twenty_at_once(url: str) -> list[httpx2.Response]:
        async with httpx2.AsyncClient(base_url=url, headers=ACME, timeout=30) as client:
            # The demo admin pays: any logged-in user may, and a new account would first confirm its email.
            log_in = {"username": "admin@acme.example", "password": ADMIN_PASSWORD}
            token = await client.post("/token", data=log_in)
            headers = {**bearer(token.json()["access_token"]), "Idempotency-Key": "order-0001"}
            return await asyncio.gather(*(client.post("/payments", json=CARD, headers=headers) for _ in range(20)))

    with stage_app.running() as url:
        responses = asyncio.run(twenty_at_once(url))
    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) <= {201, 409}, statuses
    assert provider.charges_made == 1, f"one charge for one key, whatever the retries: {statuses}"
    assert provider.ledger.calls == 1, "the app's own record of the key kept the retries from the provider"
    charged = {response.json()["id"] for response in responses if response.status_code == 201}
    assert len(charged) == 1, "every 201 is the same payment"
    for refused in (response for response in responses if response.status_code == 409):
        assert refused.headers["Retry-After"] == "1"
        assert "still in flight" in refused.json()["detail"]


def test_a_retry_while_the_first_is_in_flight_is_told_to_come_back(shop, payer, provider, stage_app):
    idempotency = stage_app.module("idempotency")
    ada = shop.get("/users/me", headers=payer).json()
    store = idempotency.IdempotencyStore(shop.app_state["redis"], pending_seconds=5, result_seconds=60)
    # The first request's claim, as it stands while its charge is on its way.
    key = idempotency.IdempotencyStore.key("acme", ada["id"], "order-0001")
    assert shop.portal.call(store.claim, key, idempotency.fingerprint(CARD)) is None
    response = pay(shop, payer, "order-0001")
    assert response.status_code == 409 and response.headers["Retry-After"] == "1"
    assert provider.charges_made == 0


def test_the_same_key_for_another_payment_is_refused_with_422(shop, payer, provider):
    assert pay(shop, payer, "order-0001").status_code == 201
    response = pay(shop, payer, "order-0001", amount=99_900)
    assert response.status_code == 422
    [problem] = problems(response)
    assert problem["loc"] == ["header", "Idempotency-Key"] and problem["type"] == "idempotency_key_reused"
    assert provider.charges_made == 1


def test_keys_are_per_user_so_another_users_key_never_answers_with_your_payment(shop, payer, provider):
    admin = bearer(log_in_as_admin(shop)["access_token"])
    mine, theirs = pay(shop, payer, "order-0001"), pay(shop, admin, "order-0001")
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"] and provider.charges_made == 2


@pytest.mark.parametrize(
    "key",
    [None, "short", "x" * 65, "has spaces in it", "naïve-unicode-key".encode(), "semi;colon;key"],
    ids=["missing", "too-short", "too-long", "spaces", "non-ascii", "punctuation"],
)
def test_an_idempotency_key_that_is_missing_or_malformed_is_a_422(shop, payer, provider, key):
    headers = payer if key is None else {**payer, "Idempotency-Key": key}
    response = shop.post("/payments", json=CARD, headers=headers)
    assert response.status_code == 422, response.text
    assert problems(response)[0]["loc"] == ["header", "Idempotency-Key"]
    assert provider.charges_made == 0


@pytest.mark.parametrize(
    "changes",
    [{"amount": 0}, {"amount": 10**12}, {"currency": "XYZ"}, {"card_token": "tok"}, {"card_token": "tok_bad/../x"}],
    ids=["zero", "huge", "currency", "short-token", "token-charset"],
)
def test_a_bad_payment_is_a_422_and_charges_nothing(shop, payer, provider, changes):
    response = pay(shop, payer, "order-0001", **changes)
    assert response.status_code == 422, response.text
    assert provider.charges_made == 0


def test_paying_needs_a_logged_in_user(shop, provider):
    response = pay(shop, ACME, "order-0001")
    assert response.status_code == 401
    assert provider.charges_made == 0


def test_a_provider_slower_than_the_deadline_is_a_504_and_the_retry_charges_once(shop, payer, provider):
    provider.latency = DEADLINE_SECONDS + 1
    response = pay(shop, payer, "order-0001")
    assert response.status_code == 504
    assert "did not answer in time" in response.json()["detail"]
    # The provider charged before its answer was lost: the client cannot know, so it retries.
    assert provider.charges_made == 1
    provider.latency = 0
    retry = pay(shop, payer, "order-0001")
    assert retry.status_code == 201
    assert provider.ledger.calls == 2, "the app released its claim after the 504: the retry reached the provider"
    assert provider.charges_made == 1, "the provider's idempotency key made the retry find the first charge"


def test_a_failing_provider_is_a_502_and_the_key_may_be_retried(shop, payer, provider):
    provider.failure_rate = 1.0
    response = pay(shop, payer, "order-0001")
    assert response.status_code == 502
    assert response.json()["detail"] == "The payment provider answered 503"
    provider.failure_rate = 0.0
    assert pay(shop, payer, "order-0001").status_code == 201, "a failure leaves the key free for a retry"
    assert provider.charges_made == 1


def test_a_provider_that_refuses_connections_is_a_502(shop, payer, provider):
    provider.stop()
    response = pay(shop, payer, "order-0001")
    assert response.status_code == 502
    assert response.json()["detail"] == "The payment provider could not be reached"


def test_a_provider_whose_certificate_is_not_trusted_is_a_502(provider, auth_env, stage_app, monkeypatch):
    monkeypatch.delenv("WORKBOOK_HTTP_CA_FILE")  # the system's authorities only: they never signed it
    with contextmanager(stage_app.serve)() as shop:
        response = pay(shop, logged_in_ada(shop), "order-0001")
    assert response.status_code == 502 and response.json()["detail"] == "The payment provider could not be reached"
    assert provider.ledger.calls == 0, "verification failed before anything was sent"


def test_the_card_token_is_in_no_url_no_log_line_and_no_error(shop, payer, provider, capsys, caplog):
    caplog.set_level(logging.DEBUG)  # every library's log lines, the HTTP client's included
    urls: list[str] = []

    async def record(request: httpx2.Request) -> None:
        urls.append(str(request.url))

    shop.app_state["http"].event_hooks = {"request": [record]}
    token = CARD["card_token"]
    assert pay(shop, payer, "order-0001").status_code == 201
    provider.latency = DEADLINE_SECONDS + 0.5
    assert pay(shop, payer, "order-0002").status_code == 504
    provider.stop()
    assert pay(shop, payer, "order-0003").status_code == 502
    rejected = pay(shop, payer, "order-0004", card_token=token + "!")
    assert rejected.status_code == 422 and token not in rejected.text, "a rejected token is not echoed"
    assert urls and all(token not in url for url in urls)
    logged = capsys.readouterr().out + caplog.text
    assert "payment.charged" in logged and "payment.provider_timeout" in logged, "the log lines were captured"
    assert token not in logged

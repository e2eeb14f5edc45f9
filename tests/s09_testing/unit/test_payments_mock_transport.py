"""PaymentService against httpx2.MockTransport: the provider replaced at the transport, in this process.

When each is right:
- MockTransport (here) for what the service does with each possible answer: exact
  (the test sees the very request sent, and picks the answer: a 500, a timeout,
  garbage), instant, and able to produce failures a real provider rarely gives.
  It proves nothing about the network: TLS, certificates, connection reuse.
- The local fake provider (../api/test_payments_fake_provider.py) for the wiring:
  real HTTPS on loopback, the app's own client and its trust in the provider's
  certificate authority, the settings that point the app at it.
"""

import asyncio
import json
from collections.abc import Callable

import httpx2
import pytest
import structlog

from lessons.s09_testing.payments import (
    PaymentRequest,
    PaymentService,
    ProviderTimeout,
    ProviderUnavailable,
)

pytestmark = [pytest.mark.unit, pytest.mark.anyio]

PROVIDER = "https://provider.test"
CARD = PaymentRequest(amount=1250, currency="EUR", card_token="tok_visa_4242424242")
CHARGE = {"id": "ch_000001", "amount": 1250, "currency": "EUR", "status": "succeeded"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def service_answering(handler: Callable, deadline_seconds: float = 1.0) -> PaymentService:
    """A PaymentService whose HTTP client hands every request to `handler` instead of the network."""
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    return PaymentService(client, PROVIDER, deadline_seconds, structlog.get_logger())


async def test_the_charge_is_posted_with_its_idempotency_key_and_the_card_token():
    sent: list[httpx2.Request] = []

    def provider(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        return httpx2.Response(201, json=CHARGE)

    payment = await service_answering(provider).charge(CARD, "order-0042")
    assert payment.id == "ch_000001"
    [request] = sent
    assert (request.method, str(request.url)) == ("POST", f"{PROVIDER}/v1/charges")
    assert request.headers["Idempotency-Key"] == "order-0042"
    assert json.loads(request.content)["card_token"] == "tok_visa_4242424242"


async def test_a_provider_error_is_provider_unavailable():
    service = service_answering(lambda request: httpx2.Response(500, json={"error": "boom"}))
    with pytest.raises(ProviderUnavailable, match="answered 500"):
        await service.charge(CARD, "order-0042")


async def test_an_answer_that_is_not_a_charge_is_provider_unavailable():
    service = service_answering(lambda request: httpx2.Response(201, text="<html>maintenance</html>"))
    with pytest.raises(ProviderUnavailable, match="could not be read"):
        await service.charge(CARD, "order-0042")


async def test_a_client_timeout_is_provider_timeout():
    def provider(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("no answer", request=request)

    with pytest.raises(ProviderTimeout, match="same Idempotency-Key"):
        await service_answering(provider).charge(CARD, "order-0042")


async def test_a_provider_slower_than_the_deadline_is_provider_timeout():
    async def provider(request: httpx2.Request) -> httpx2.Response:
        await asyncio.sleep(1.0)  # twenty times the deadline below
        return httpx2.Response(201, json=CHARGE)

    with pytest.raises(ProviderTimeout):
        await service_answering(provider, deadline_seconds=0.05).charge(CARD, "order-0042")


async def test_a_refused_connection_is_provider_unavailable():
    def provider(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    with pytest.raises(ProviderUnavailable, match="could not be reached"):
        await service_answering(provider).charge(CARD, "order-0042")

"""POST /payments against the local fake provider: real HTTPS on loopback, through the app's own client.

Slower than MockTransport (../unit/test_payments_mock_transport.py) and less
exact about failures, but it proves what a mock cannot: that the settings point
the app at the provider, that the app's client trusts the provider's certificate
authority, and that the provider's books agree with the app's answer.
"""

import pytest

from ...payment_helpers import CARD, pay

pytestmark = pytest.mark.api


def test_a_payment_is_charged_once_by_the_provider(shop, payer, provider):
    response = pay(shop, payer, "order-0001")
    assert response.status_code == 201, response.text
    assert response.json()["amount"] == CARD["amount"]
    assert provider.charges_made == 1


def test_a_retry_with_the_same_key_gets_the_first_charge_back(shop, payer, provider):
    first = pay(shop, payer, "order-0001").json()
    again = pay(shop, payer, "order-0001")
    assert again.json()["id"] == first["id"]
    assert provider.charges_made == 1

"""Exercise 09/idempotency_tests: write the tests that keep POST /payments from charging twice.

POST /payments charges a card once per Idempotency-Key (idempotency.py, routes/payments.py):

- a retry with the same key answers the first payment, and the provider is not called again;
- a retry after a charge that failed (a 502) may try again, and is charged;
- the same key sent with a different payment is refused with 422.

Write the three tests below. `make check LESSON=09` runs them on stage 09 as it is, where
they must pass, then once with each of three planted bugs, each of which must make at least
one of them fail. A bug that slips through is named, with what it breaks.

What you have (tests/s09_testing/conftest.py and payments.py):

    shop      the app in a TestClient, told where the fake payment provider is
    payer     Ada's headers: registered, confirmed and logged in
    provider  the fake payment provider, running on loopback over HTTPS:
              provider.ledger.calls   every charge request it received
              provider.charges_made   the charges it made (one per provider key)
              provider.failure_rate   0.0 by default; 1.0 makes every call fail
    pay(shop, payer, key, **changes)  POST /payments with a card of 12.50 EUR (amount=..., currency=...
                                      change it) and that key
"""

from tests.payment_helpers import pay


def test_a_retry_with_the_same_key_answers_the_first_payment_and_calls_the_provider_once(shop, payer, provider):
    raise NotImplementedError("exercise 09/idempotency_tests: write this part")


def test_a_retry_after_a_failed_charge_is_charged(shop, payer, provider):
    raise NotImplementedError("exercise 09/idempotency_tests: write this part")


def test_the_same_key_with_another_payment_is_refused(shop, payer, provider):
    raise NotImplementedError("exercise 09/idempotency_tests: write this part")

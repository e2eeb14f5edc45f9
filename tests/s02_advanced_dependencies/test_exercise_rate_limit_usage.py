"""Exercise 02/rate_limit_usage: GET /rate-limit answers the caller's usage without using any up."""

from .conftest import ACME, GLOBEX, RATE_LIMIT


def usage(client, headers=ACME) -> dict:
    response = client.get("/rate-limit", headers=headers)
    assert response.status_code == 200, f"GET /rate-limit should answer 200, got {response.status_code}"
    return response.json()


def test_a_new_caller_has_the_whole_limit_and_no_window(limited_client):
    assert usage(limited_client) == {"limit": RATE_LIMIT, "remaining": RATE_LIMIT, "reset_in": 0}, (
        "before any request: the whole limit remains, and no window is open (reset_in 0)"
    )


def test_requests_to_the_user_routes_are_subtracted(limited_client):
    limited_client.get("/users/ada@example.com", headers=ACME)
    answer = usage(limited_client)
    assert (answer["limit"], answer["remaining"]) == (RATE_LIMIT, RATE_LIMIT - 1), "one request was counted"
    assert 1 <= answer["reset_in"] <= 60, "an open window ends within 60 seconds"


def test_asking_uses_up_nothing(limited_client):
    for _ in range(RATE_LIMIT + 2):
        usage(limited_client)
    assert usage(limited_client)["remaining"] == RATE_LIMIT, "GET /rate-limit must only read the counter"


def test_remaining_never_goes_below_zero(limited_client):
    for _ in range(RATE_LIMIT + 2):
        limited_client.get("/users/ada@example.com", headers=ACME)
    assert usage(limited_client)["remaining"] == 0, "past the limit, remaining is 0, not negative"


def test_each_tenant_has_its_own_usage(limited_client):
    limited_client.get("/users/ada@example.com", headers=ACME)
    assert usage(limited_client, GLOBEX)["remaining"] == RATE_LIMIT, "acme's requests do not count for globex"

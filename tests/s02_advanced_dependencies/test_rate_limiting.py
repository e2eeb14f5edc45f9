"""The rate limit on the user routes: per tenant and client, atomic, 429 with Retry-After."""

import pytest

from lessons.s02_advanced_dependencies.main import app
from lessons.s02_advanced_dependencies.rate_limiting import RateLimiter, rate_limiter

from ..stage_apps import run_redis
from .conftest import ACME, GLOBEX, RATE_LIMIT

pytestmark = pytest.mark.services


def use_up(client, headers) -> list[int]:
    return [client.get("/users/ada@example.com", headers=headers).status_code for _ in range(RATE_LIMIT)]


def test_the_request_past_the_limit_answers_429_with_retry_after(limited_client):
    assert use_up(limited_client, ACME) == [404] * RATE_LIMIT
    response = limited_client.post("/users", json={"email": "ada@example.com", "name": "Ada"}, headers=ACME)
    assert response.status_code == 429
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert response.json() == {
        "detail": f"Rate limit of {RATE_LIMIT} requests per minute exceeded; try again in {retry_after} seconds"
    }


def test_each_tenant_has_its_own_count(limited_client):
    use_up(limited_client, ACME)
    assert limited_client.get("/users/ada@example.com", headers=ACME).status_code == 429
    assert limited_client.get("/users/ada@example.com", headers=GLOBEX).status_code == 404


def test_the_counter_is_keyed_by_tenant_and_client_host(limited_client):
    limited_client.get("/users/ada@example.com", headers=ACME)
    # TestClient calls from the host "testclient"; another address gets another counter.
    assert run_redis(limited_client, "get", "rate-limit:acme:testclient") == "1"
    assert rate_limiter.key_for("acme", "203.0.113.7") == "rate-limit:acme:203.0.113.7"


def test_routes_outside_users_are_not_counted(limited_client):
    for _ in range(RATE_LIMIT + 1):
        assert limited_client.get("/health").status_code == 200
    assert use_up(limited_client, ACME) == [404] * RATE_LIMIT


def test_the_counter_is_created_with_its_expiry(limited_client):
    limited_client.get("/users/ada@example.com", headers=ACME)
    seconds_left = run_redis(limited_client, "ttl", rate_limiter.key_for("acme", "testclient"))
    assert 1 <= seconds_left <= 60  # never -1: a key without expiry would block for good


def test_a_limit_given_to_the_constructor_beats_the_setting(limited_client):
    app.dependency_overrides[rate_limiter] = RateLimiter(limit=1)
    assert limited_client.get("/users/ada@example.com", headers=ACME).status_code == 404
    assert limited_client.get("/users/ada@example.com", headers=ACME).status_code == 429

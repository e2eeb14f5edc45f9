"""`make load LESSON=11`: a short, real Locust run against stage 11 as deployed (uvicorn's supervisor and
three workers, the Celery worker, the payment provider), its figures read from the CSV Locust writes.

The rate limit stays on: each user is a client of its own (its own loopback address) and paces itself
under it, so a 429 would be a failure here, and none may happen. A second run with a rate limit lower
than the users' pace shows that the limiter really counts each user: the 429s show up as failures.
"""

import pytest

from workbook import load
from workbook.stages import get_stage

pytestmark = pytest.mark.services
STAGE = get_stage("11")
USERS = 5
ROUTES = {"POST /token", "GET /products", "GET /products/[sku]", "GET /users/me", "POST /orders"}


def test_the_deployment_serves_the_shoppers_journeys_with_no_failure(services):
    # 10 s: long enough that each user, at 80 % of 600 a minute, orders now and then (1 task in 11).
    report = load.run(STAGE, users=USERS, spawn_rate=USERS, seconds=10, services=services)
    print(load.table(report))
    routes = {row.name: row for row in report.routes}

    assert report.total.failures == 0, f"nothing may fail, not even a 429: {report.failures}"
    assert ROUTES <= routes.keys(), f"every step of the journey was taken: {sorted(routes)}"
    assert routes["POST /token"].requests == USERS, "each user logs in once"
    assert report.total.requests > 10 * USERS, "each user kept shopping for the whole run"
    assert report.total.p50_ms <= report.total.p95_ms <= report.total.p99_ms, "percentiles never decrease"
    # Paced at 80 % of the limit: never above it, whatever the machine.
    assert report.total.requests_per_second <= USERS * load.RATE_LIMIT_PER_MINUTE / 60


def test_a_user_over_the_rate_limit_is_refused_and_counted():
    # The users pace themselves at 80 % of 600 a minute, but the server allows only 3 a minute per client:
    # each user's fourth request is refused, however slowly a busy machine lets them reach it.
    report = load.run(STAGE, users=2, spawn_rate=2, seconds=6, env={"WORKBOOK_RATE_LIMIT_PER_MINUTE": "3"})

    assert report.total.failures > 0, "a 429 is a failed request, and the report must say so"
    assert any("429" in failure for failure in report.failures), report.failures

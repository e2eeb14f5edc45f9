"""`make load LESSON=09`: a short, real Locust run against stage 09 served by uvicorn, its figures
read from the CSV Locust writes. Two runs: one with the limits lifted as `make load` lifts them,
which must fail nothing; one with the rate limit kept low, whose 429s must show up as failures,
so a runner that read nothing (or read the wrong column) could not pass both."""

from workbook import load
from workbook.stages import get_stage

STAGE = get_stage("09")
USERS = 5


def test_a_short_run_reports_the_requests_and_percentiles_locust_measured():
    report = load.run(STAGE, users=USERS, spawn_rate=USERS, seconds=3)
    routes = {row.name: row for row in report.routes}

    assert report.total.requests > USERS, "each user logs in, lists the products, then keeps reading"
    assert report.total.failures == 0, f"nothing may fail with the limits lifted: {report.failures}"
    assert report.total.requests_per_second > 0
    assert report.total.p50_ms <= report.total.p95_ms <= report.total.p99_ms, "percentiles never decrease"
    # on_start runs once per user: exactly one log-in each, however long the run.
    assert routes["POST /token"].requests == USERS
    assert {"GET /products", "GET /products/[sku]", "GET /users/me", "GET /health"} <= routes.keys()
    assert sum(row.requests for row in report.routes) == report.total.requests, "the Aggregated row is their sum"


def test_refused_requests_are_read_as_failures():
    # Kept at 10 a minute, the rate limit refuses the shoppers' reads: Locust counts each 429.
    report = load.run(STAGE, users=USERS, spawn_rate=USERS, seconds=3, env={"WORKBOOK_RATE_LIMIT_PER_MINUTE": "10"})

    assert report.total.failures > 0, "a 429 is a failed request, and the report must say so"
    assert report.total.failures <= report.total.requests
    assert any("429" in failure for failure in report.failures), report.failures

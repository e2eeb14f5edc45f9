"""GET /health/live and GET /health/ready: liveness checks nothing outside the process; readiness checks the
database, Redis and the broker at once, each within its own deadline, and names what failed without leaking
where it lives.

A dependency "down" is real here: a port that accepts connections and never answers (a listening socket
that nobody reads), or one where nothing listens. With --services the rest is PostgreSQL, Redis and RabbitMQ.
"""

import os
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from ..scaling_fixtures import holding_every_connection

DEADLINE = 0.5  # each check's deadline in these tests, seconds
# Far more than a deadline, far less than "hung": the probe's answer time must stay under it.
BOUND = 4.0
RABBITMQ = os.environ.get("WORKBOOK_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.fixture
def probe_env(auth_env, services, monkeypatch) -> None:
    for check in ("database", "redis", "broker"):
        monkeypatch.setenv(f"WORKBOOK_READY_{check.upper()}_TIMEOUT_SECONDS", str(DEADLINE))
    if services:
        monkeypatch.setenv("WORKBOOK_BROKER_URL", RABBITMQ)


def served(stage_app, monkeypatch, **settings: str) -> Iterator[TestClient]:
    for name, value in settings.items():
        monkeypatch.setenv(f"WORKBOOK_{name.upper()}", value)
    yield from stage_app.serve()


def timed_get(client: TestClient, path: str) -> tuple:
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


@pytest.fixture
def probed(probe_env, stage_app, monkeypatch) -> Iterator[TestClient]:
    yield from served(stage_app, monkeypatch)


@pytest.fixture
def redis_hung(probe_env, stage_app, monkeypatch, silent_port) -> Iterator[TestClient]:
    # The cache's listener subscribes at start-up, which would hang the start itself: off.
    yield from served(
        stage_app, monkeypatch, redis_url=f"redis://127.0.0.1:{silent_port}/0", product_cache_broadcast="false"
    )


@pytest.mark.services
def test_every_dependency_up_is_ready(probed):
    response = probed.get("/health/ready")
    assert response.status_code == 200, f"database, Redis and broker all answer: 200, got {response.text}"
    body = response.json()
    assert body["status"] == "ready" and body["failed"] == [], f"nothing failed, got {body}"
    assert set(body["checks"]) == {"database", "redis", "broker"}, "each dependency is checked by name"
    for name, check in body["checks"].items():
        assert check["status"] == "ok" and check["reason"] is None, f"{name} answered: ok, got {check}"
        assert 0 <= check["latency_ms"] < BOUND * 1000, f"{name}'s latency is measured in ms, got {check}"
    assert body["spare_connections"] >= 1, "an idle app has connections to lend"


def test_liveness_answers_while_readiness_waits_on_a_hung_dependency(probe_env, stage_app, monkeypatch, silent_port):
    monkeypatch.setenv("WORKBOOK_READY_REDIS_TIMEOUT_SECONDS", "2")  # a long wait, to answer liveness within
    hung = {"redis_url": f"redis://127.0.0.1:{silent_port}/0", "product_cache_broadcast": "false"}
    for client in served(stage_app, monkeypatch, **hung):
        assert client.get("/health/live").json() == {"status": "alive"}
        waiting = threading.Thread(target=client.get, args=("/health/ready",))
        waiting.start()
        time.sleep(0.1)  # the readiness probe is now waiting on Redis, for up to 2 s
        response = client.get("/health/live")
        still_waiting = waiting.is_alive()
        waiting.join()
        assert response.status_code == 200, "liveness checks nothing outside the process: 200 with Redis hung"
        assert still_waiting, "liveness answered while readiness was still waiting for Redis"


@pytest.mark.services
def test_a_hung_redis_is_named_within_its_deadline(redis_hung):
    response, took = timed_get(redis_hung, "/health/ready")
    assert response.status_code == 503, f"Redis does not answer: 503, got {response.status_code}"
    body = response.json()
    assert body["failed"] == ["redis"], f"the probe names Redis, and only Redis, got {body['failed']}"
    assert body["checks"]["redis"]["reason"] == f"no answer within {DEADLINE} s", body["checks"]["redis"]
    assert body["checks"]["redis"]["latency_ms"] >= DEADLINE * 1000 * 0.9, "it waited for its deadline..."
    assert took < BOUND, f"...and not much longer: the probe answered in {took:.2f} s"
    assert redis_hung.get("/health/live").status_code == 200, "liveness: still 200"


def test_the_checks_run_at_once(probe_env, stage_app, monkeypatch, silent_port):
    # Redis and the broker both hung, each with a 1.5 s deadline: one after the other would take 3 s.
    monkeypatch.setenv("WORKBOOK_READY_REDIS_TIMEOUT_SECONDS", "1.5")
    monkeypatch.setenv("WORKBOOK_READY_BROKER_TIMEOUT_SECONDS", "1.5")
    hung = {
        "redis_url": f"redis://127.0.0.1:{silent_port}/0",
        "product_cache_broadcast": "false",
        "broker_url": f"amqp://guest:guest@127.0.0.1:{silent_port}//",
    }
    for client in served(stage_app, monkeypatch, **hung):
        response, took = timed_get(client, "/health/ready")
        assert sorted(response.json()["failed"]) == ["broker", "redis"], response.text
        assert took < 2.7, f"the probe took {took:.2f} s: the two waits overlap, so about 1.5 s, not 3"


def test_a_stopped_redis_is_named_at_once(probe_env, stage_app, monkeypatch, closed_port):
    for client in served(
        stage_app, monkeypatch, redis_url=f"redis://127.0.0.1:{closed_port}/0", product_cache_broadcast="false"
    ):
        response, took = timed_get(client, "/health/ready")
        assert response.status_code == 503, f"Redis refuses connections: 503, got {response.status_code}"
        assert response.json()["failed"] == ["redis"], response.text
        assert response.json()["checks"]["redis"]["reason"] == "failed: ConnectionError", response.text
        assert took < BOUND, f"a refusal is known at once, took {took:.2f} s"
        assert str(closed_port) not in response.text, "the answer does not say where Redis lives"


@pytest.mark.services
def test_a_refused_broker_is_named_without_its_password(probe_env, stage_app, monkeypatch, closed_port):
    url = f"amqp://storefront:hunter2-broker@127.0.0.1:{closed_port}//"
    for client in served(stage_app, monkeypatch, broker_url=url):
        response, took = timed_get(client, "/health/ready")
        assert response.status_code == 503, f"the broker refuses connections: 503, got {response.status_code}"
        assert response.json()["failed"] == ["broker"], response.text
        reason = response.json()["checks"]["broker"]["reason"]
        assert reason == "failed: OperationalError", f"refused at once, not retried until the deadline: {reason}"
        assert took < BOUND, f"a refusal is known at once, took {took:.2f} s"
        for secret in ("hunter2-broker", "storefront", str(closed_port)):
            assert secret not in response.text, f"the answer leaks {secret!r} from the broker's URL"
        assert client.get("/health/live").status_code == 200, "liveness: still 200"


def test_a_hung_broker_is_named_within_its_deadline(probe_env, stage_app, monkeypatch, silent_port):
    for client in served(stage_app, monkeypatch, broker_url=f"amqp://guest:guest@127.0.0.1:{silent_port}//"):
        response, took = timed_get(client, "/health/ready")
        assert response.status_code == 503, f"the broker never answers: 503, got {response.status_code}"
        assert response.json()["failed"] == ["broker"], response.text
        assert response.json()["checks"]["broker"]["reason"] == f"no answer within {DEADLINE} s", response.text
        assert took < BOUND, f"the probe answered in {took:.2f} s"


def use_database(client: TestClient, stage_app, url: str) -> None:
    """The app's readiness checks, with the database at `url` in place of the app's own."""
    settings = stage_app.get_settings()
    watch = stage_app.module("pool_watch").PoolWatch(create_engine(url), 1, 0)
    checks = stage_app.module("readiness").ReadinessChecks(watch, client.app_state["redis"], settings)
    client.app.dependency_overrides[stage_app.module("routes.probes").get_readiness_checks] = lambda: checks


def database_threads() -> int:
    return sum(thread.name == "ready-database" for thread in threading.enumerate())


@pytest.mark.services
def test_a_hung_database_is_named_within_its_deadline_and_costs_one_thread(probed, stage_app, silent_port):
    # psycopg waits for the server's answer with no timeout of its own: only the deadline ends the wait.
    use_database(probed, stage_app, f"postgresql+psycopg://storefront@127.0.0.1:{silent_port}/shop")
    before = database_threads()
    response, took = timed_get(probed, "/health/ready")
    assert response.status_code == 503, f"the database never answers: 503, got {response.status_code}"
    assert response.json()["failed"] == ["database"], response.text
    assert response.json()["checks"]["database"]["reason"] == f"no answer within {DEADLINE} s", response.text
    assert took < BOUND, f"the probe answered in {took:.2f} s, though the query never returns"
    again, took_again = timed_get(probed, "/health/ready")
    assert again.json()["checks"]["database"]["reason"] == "the previous check has not returned yet", again.text
    assert took_again < BOUND, f"the second probe answered in {took_again:.2f} s"
    assert database_threads() - before == 1, "the hung check keeps one thread; the next probe starts no other"
    assert probed.get("/health/live").status_code == 200, "liveness: still 200"


def test_a_database_that_cannot_be_reached_is_named(probed, stage_app, tmp_path):
    # A database file in a folder that does not exist: every connection attempt fails.
    use_database(probed, stage_app, f"sqlite:///{tmp_path / 'missing' / 'shop.db'}")
    response = probed.get("/health/ready")
    assert response.status_code == 503, f"the database cannot be reached: 503, got {response.status_code}"
    assert response.json()["failed"] == ["database"], response.text
    assert response.json()["checks"]["database"]["reason"] == "failed: OperationalError", response.text
    assert str(tmp_path) not in response.text, "the answer does not say where the database lives"


@pytest.mark.services
def test_a_pool_with_no_connection_to_lend_is_not_ready_at_once(probe_env, pool_env, stage_app, monkeypatch):
    monkeypatch.setenv("WORKBOOK_POOL_TIMEOUT", "30")  # a check that waited for a connection would hit its deadline
    for client in stage_app.serve():
        with holding_every_connection(client):
            response = client.get("/health/ready")
        body = response.json()
        assert response.status_code == 503, f"every connection held: 503, got {response.text}"
        assert body["checks"]["database"]["reason"] == "no free connection in the pool", "read from the pool's figures"
        assert body["spare_connections"] == 0, body
        assert client.get("/health/ready").status_code == 200, "ready again once the connection is back"


def test_the_probes_answers_are_documented(probed):
    paths = probed.get("/openapi.json").json()["paths"]
    ready = paths["/health/ready"]["get"]["responses"]
    for code in ("200", "503"):
        schema = ready[code]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Readiness"}, f"/health/ready's {code} is a Readiness"
    live = paths["/health/live"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert live == {"$ref": "#/components/schemas/Liveness"}, "/health/live's answer is documented"

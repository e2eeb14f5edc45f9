"""Exercise 08/readiness: GET /health/ready answers 503 when the pool has nothing to give or the database is gone."""

import time

import pytest
from sqlalchemy import create_engine

from lessons.s08_scaling.pool_watch import PoolWatch
from lessons.s08_scaling.routes.pool_health import get_pool_watch

from ..scaling_fixtures import holding_every_connection


def test_a_process_with_a_free_connection_is_ready(small_pool_client):
    response = small_pool_client.get("/health/ready")
    assert response.status_code == 200, f"a free connection and a database that answers: 200, got {response.text}"
    assert response.json()["size"] == 1, "the answer is the pool's figures, as on /health/pool"


@pytest.mark.services
def test_no_free_connection_is_503_at_once(pool_env, stage_app, monkeypatch):
    monkeypatch.setenv("WORKBOOK_POOL_TIMEOUT", "5")  # a check that waits for a connection would take 5 s
    for client in stage_app.serve():
        with holding_every_connection(client):
            started = time.monotonic()
            response = client.get("/health/ready")
            took = time.monotonic() - started
        assert response.status_code == 503, f"every connection held and no overflow left: 503, got {response.text}"
        assert response.json() == {"detail": "No free database connection"}, "the detail says why"
        assert took < 2.5, f"took {took:.2f} s: read the pool's figures, do not wait pool_timeout for a connection"
        assert client.get("/health/ready").status_code == 200, "ready again once the connection is back"


def test_a_database_that_does_not_answer_is_503(small_pool_client, tmp_path):
    # A database file in a folder that does not exist: every connection attempt fails.
    unreachable = create_engine(f"sqlite:///{tmp_path / 'missing' / 'shop.db'}")
    small_pool_client.app.dependency_overrides[get_pool_watch] = lambda: PoolWatch(unreachable, 1, 0)
    response = small_pool_client.get("/health/ready")
    assert response.status_code == 503, f"a database that cannot be reached: 503, got {response.status_code}"
    assert response.json() == {"detail": "The database does not answer"}, "the detail says why"

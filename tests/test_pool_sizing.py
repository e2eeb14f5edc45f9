"""The pool arithmetic: every worker's pool, overflow included, must fit the server's usable connections.

They run against the pool_sizing.py of every stage whose API reports on its pool.
"""

from types import ModuleType

import pytest
from sqlalchemy import create_engine, text

from .stage_apps import stage_app_fixture

stage_app = stage_app_fixture("/health/pool")


@pytest.fixture
def sizing(stage_app) -> ModuleType:
    """The stage's pool_sizing module."""
    return stage_app.module("pool_sizing")


@pytest.fixture
def postgres_defaults(sizing):
    """PostgreSQL's out-of-the-box limits: 100 connections, 3 of them kept for superusers."""
    return sizing.ServerLimits(max_connections=100, superuser_reserved=3)


def test_forgetting_max_overflow_undercounts_by_a_factor_of_three(sizing, postgres_defaults):
    forgot_overflow = 8 * 5  # the pitfall: workers x pool_size
    assert sizing.connections_needed(workers=8, pool_size=5, max_overflow=10) == 120
    assert forgot_overflow == 40, "looks like it fits in 97 usable connections..."
    with pytest.raises(sizing.PoolTooLarge):
        sizing.check_pool_fits(8, 5, 10, postgres_defaults)  # ...but at the busiest moment it needs 120


def test_a_pool_that_fits_leaves_the_rest_for_everything_else(sizing, postgres_defaults):
    assert sizing.check_pool_fits(4, 5, 10, postgres_defaults) == 97 - 60


def test_exactly_the_usable_connections_fits(sizing, postgres_defaults):
    assert sizing.check_pool_fits(1, 90, 7, postgres_defaults) == 0
    with pytest.raises(sizing.PoolTooLarge):
        sizing.check_pool_fits(1, 90, 8, postgres_defaults)


def test_reserved_connections_count_too(sizing):
    limits = sizing.ServerLimits(max_connections=100, superuser_reserved=3, reserved=10)
    assert limits.usable == 87
    with pytest.raises(sizing.PoolTooLarge):
        sizing.check_pool_fits(6, 5, 10, limits)  # 90: fits 97, not 87


def test_the_refusal_names_every_number(sizing, postgres_defaults):
    with pytest.raises(sizing.PoolTooLarge) as refusal:
        sizing.check_pool_fits(8, 5, 10, postgres_defaults)
    message = str(refusal.value)
    for part in ("8 workers", "pool_size 5", "max_overflow 10", "= 120", "accepts 97", "max_connections 100"):
        assert part in message, f"{part!r} missing from: {message}"


@pytest.mark.services
def test_start_up_refuses_a_pool_total_the_server_cannot_accept(auth_env, stage_app, sizing, services, monkeypatch):
    monkeypatch.setenv("WORKBOOK_WORKERS", "1000")
    if not services:
        # SQLite has no server and no connection limit: nothing to refuse.
        for client in stage_app.serve():
            assert client.get("/health").status_code == 200
        return
    with pytest.raises(sizing.PoolTooLarge, match=r"1000 workers x \(pool_size 5 \+ max_overflow 10\) = 15000"):
        for _ in stage_app.serve():
            pass


@pytest.mark.services
def test_the_servers_own_limits_are_read(services, database_url, sizing):
    if not services:
        pytest.skip("the connection limits of a PostgreSQL server (make test-services)")
    engine = create_engine(database_url)
    with engine.connect() as connection:
        limits = sizing.server_limits(connection)
        max_connections = int(connection.execute(text("SHOW max_connections")).scalar_one())
    engine.dispose()
    assert limits.max_connections == max_connections
    assert 0 < limits.usable < max_connections

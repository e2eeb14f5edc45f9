"""The pool arithmetic: every worker's pool, overflow included, must fit the server's usable connections."""

import pytest
from sqlalchemy import create_engine, text

from lessons.s08_scaling.pool_sizing import (
    PoolTooLarge,
    ServerLimits,
    check_pool_fits,
    connections_needed,
    server_limits,
)

POSTGRES_DEFAULTS = ServerLimits(max_connections=100, superuser_reserved=3)


def test_forgetting_max_overflow_undercounts_by_a_factor_of_three():
    forgot_overflow = 8 * 5  # the pitfall: workers x pool_size
    assert connections_needed(workers=8, pool_size=5, max_overflow=10) == 120
    assert forgot_overflow == 40, "looks like it fits in 97 usable connections..."
    with pytest.raises(PoolTooLarge):
        check_pool_fits(8, 5, 10, POSTGRES_DEFAULTS)  # ...but at the busiest moment it needs 120


def test_a_pool_that_fits_leaves_the_rest_for_everything_else():
    assert check_pool_fits(4, 5, 10, POSTGRES_DEFAULTS) == 97 - 60


def test_exactly_the_usable_connections_fits():
    assert check_pool_fits(1, 90, 7, POSTGRES_DEFAULTS) == 0
    with pytest.raises(PoolTooLarge):
        check_pool_fits(1, 90, 8, POSTGRES_DEFAULTS)


def test_reserved_connections_count_too():
    limits = ServerLimits(max_connections=100, superuser_reserved=3, reserved=10)
    assert limits.usable == 87
    with pytest.raises(PoolTooLarge):
        check_pool_fits(6, 5, 10, limits)  # 90: fits 97, not 87


def test_the_refusal_names_every_number():
    with pytest.raises(PoolTooLarge) as refusal:
        check_pool_fits(8, 5, 10, POSTGRES_DEFAULTS)
    message = str(refusal.value)
    for part in ("8 workers", "pool_size 5", "max_overflow 10", "= 120", "accepts 97", "max_connections 100"):
        assert part in message, f"{part!r} missing from: {message}"


@pytest.mark.services
def test_start_up_refuses_a_pool_total_the_server_cannot_accept(auth_env, stage_app, services, monkeypatch):
    monkeypatch.setenv("WORKBOOK_WORKERS", "1000")
    if not services:
        # SQLite has no server and no connection limit: nothing to refuse.
        for client in stage_app.serve():
            assert client.get("/health").status_code == 200
        return
    with pytest.raises(PoolTooLarge, match=r"1000 workers x \(pool_size 5 \+ max_overflow 10\) = 15000"):
        for _ in stage_app.serve():
            pass


@pytest.mark.services
def test_the_servers_own_limits_are_read(services, database_url):
    if not services:
        pytest.skip("the connection limits of a PostgreSQL server (make test-services)")
    engine = create_engine(database_url)
    with engine.connect() as connection:
        limits = server_limits(connection)
        max_connections = int(connection.execute(text("SHOW max_connections")).scalar_one())
    engine.dispose()
    assert limits.max_connections == max_connections
    assert 0 < limits.usable < max_connections

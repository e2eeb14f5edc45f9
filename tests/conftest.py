"""Fixtures shared by every stage's tests.

Stage apps read their settings from WORKBOOK_* environment variables, so the
fixtures here choose the backends by setting those variables: in-memory SQLite
and fakeredis by default, or, with --services (`make test-services`), a fresh
PostgreSQL database per test and a Redis database emptied per test. With
--services an unreachable server is an error, never a skip.

The fixtures of the stages with log-in (client, ada, admin, ...) come from
auth_fixtures.py, those of the stages that scale (pool_env, provider, shop, ...) from
scaling_fixtures.py; each runs the app the nearest `stage_app` fixture names.
"""

import uuid
from collections.abc import Iterator

import pytest

from workbook.doctor import service_urls
from workbook.stages import Stage

# pytest offers a conftest's fixtures, imported ones included, to every test beneath it.
from .auth_fixtures import *  # noqa: F403
from .scaling_fixtures import *  # noqa: F403
from .stage_apps import stage_app_for

# psycopg and the Redis client are imported by the fixtures that use them, with
# --services only: importing psycopg alone would add most of a second to every
# `make check`.


def pytest_collection_modifyitems(config, items) -> None:
    """Leave out the runs of a shared test with a JWT library its stage cannot use: a stage
    without the jwt_library setting signs with PyJWT alone, so its tests run once, as "pyjwt"."""
    unusable = [item for item in items if _library_the_stage_lacks(item)]
    if unusable:
        config.hook.pytest_deselected(items=unusable)
        items[:] = [item for item in items if item not in unusable]


def _library_the_stage_lacks(item) -> bool:
    params = getattr(item, "callspec", None) and item.callspec.params
    if not params or params.get("jwt_library", "pyjwt") == "pyjwt" or not isinstance(params.get("stage_app"), Stage):
        return False
    return not stage_app_for(params["stage_app"]).has_setting("jwt_library")


@pytest.fixture
def services(request) -> bool:
    return request.config.getoption("services")


@pytest.fixture
def database_url(services) -> Iterator[str]:
    if not services:
        yield "sqlite://"
        return
    import psycopg
    from psycopg import sql
    from sqlalchemy import make_url

    server = make_url(service_urls()[0])
    name = f"workbook_{uuid.uuid4().hex[:12]}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield server.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def redis_url(services) -> Iterator[str | None]:
    if not services:
        yield None  # the stage falls back to fakeredis
        return
    import redis

    url = service_urls()[1]
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def stage_env(monkeypatch, database_url, redis_url) -> None:
    """Point the stage apps at the chosen backends through their WORKBOOK_* settings."""
    monkeypatch.setenv("WORKBOOK_DATABASE_URL", database_url)
    if redis_url:
        monkeypatch.setenv("WORKBOOK_REDIS_URL", redis_url)


class FailingAuditLog:
    """An audit log whose record() writes the pending rows, then fails: a crash mid-request."""

    def __init__(self, session) -> None:
        self.session = session

    def record(self, action: str, subject: str) -> None:
        self.session.flush()  # the user row is written to the transaction...
        raise RuntimeError("audit store unavailable")  # ...then the request fails


@pytest.fixture
def failing_audit_log() -> type[FailingAuditLog]:
    return FailingAuditLog

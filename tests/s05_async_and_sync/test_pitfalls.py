"""The pitfalls stage 05 corrects, each shown failing and then fixed."""

import asyncio

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import create_async_engine

from lessons.s05_async_and_sync.async_database import create_async_db_engine

from .conftest import timed_concurrently

# --- Blocking I/O in async def: the whole worker waits -------------------------------------------

REQUESTS = 5
# Long enough that one at a time (REQUESTS * SECONDS) stands well clear of the noise
# a busy machine adds to requests that wait together.
SECONDS = 0.3
FIXES = ("/lab/io/def", "/lab/io/threadpool", "/lab/io/async-driver")


@pytest.mark.services
def test_pitfall_a_blocking_query_in_async_def_serves_the_requests_one_at_a_time(served):
    with served() as url:
        seconds = timed_concurrently(url, "/lab/io/blocking", REQUESTS, seconds=SECONDS)
    # Waiting one after another, five waits cannot take less than their sum.
    assert seconds >= REQUESTS * SECONDS * 0.95


@pytest.mark.services
def test_fixed_each_fix_lets_the_requests_wait_together(served):
    with served() as url:
        blocked = timed_concurrently(url, "/lab/io/blocking", REQUESTS, seconds=SECONDS)
        fixed = {path: timed_concurrently(url, path, REQUESTS, seconds=SECONDS) for path in FIXES}
    # About five times faster when idle; twice is the bar, as a busy machine adds noise
    # to every request, while the blocked route cannot beat the sum of its waits.
    for path, seconds in fixed.items():
        assert seconds * 2 < blocked, f"{path} took {seconds:.2f} s, the blocked route {blocked:.2f} s"


# --- Raw SQL strings: SQLAlchemy 2 wants text() --------------------------------------------------


def sync_session(client):
    return client.app_state["tenants"].get("acme").sessions()


def async_session(client):
    return client.app_state["async_sessions"]["acme"]()


def test_pitfall_session_execute_refuses_a_raw_sql_string(client):
    with sync_session(client) as session, pytest.raises(ArgumentError, match=r"explicitly declared as text\("):
        session.execute("SELECT 41 + 1")


def test_pitfall_async_session_execute_refuses_it_too(client):
    async def run() -> None:
        async with async_session(client) as session:
            await session.execute("SELECT 41 + 1")

    with pytest.raises(ArgumentError, match=r"explicitly declared as text\("):
        client.portal.call(run)  # in the app's event loop, where its async engine lives


def test_fixed_text_makes_a_statement_with_bound_parameters(client):
    async def run() -> int:
        async with async_session(client) as session:
            return (await session.execute(text("SELECT :n + 1"), {"n": 41})).scalar_one()

    with sync_session(client) as session:
        assert session.execute(text("SELECT :n + 1"), {"n": 41}).scalar_one() == 42
    assert client.portal.call(run) == 42


# --- Pool events on an AsyncEngine: they belong on engine.sync_engine ----------------------------


def test_pitfall_a_pool_listener_on_the_async_engine_is_refused(tmp_path):
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")

    def on_connect(dbapi_connection, connection_record) -> None: ...

    with pytest.raises(NotImplementedError, match="sync_engine"):
        event.listen(engine, "connect", on_connect)
    asyncio.run(engine.dispose())


def test_fixed_on_the_sync_engine_the_listener_runs_for_each_new_connection(tmp_path):
    engine = create_async_db_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    opened: list[object] = []
    event.listen(engine.sync_engine, "connect", lambda dbapi_connection, record: opened.append(dbapi_connection))

    async def three_queries() -> None:
        for _ in range(3):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        await engine.dispose()

    asyncio.run(three_queries())
    assert len(opened) == 1  # one connection, opened once and reused from the pool

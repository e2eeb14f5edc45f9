"""The async engine and the AsyncSession: the same database and tenants, a clean lifecycle."""

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from lessons.s05_async_and_sync.async_database import async_url, create_async_db_engine, shareable_url
from lessons.s05_async_and_sync.dependencies import AsyncSessionDep
from lessons.s05_async_and_sync.main import app
from lessons.s05_async_and_sync.models import User
from lessons.s05_async_and_sync.resources import lifespan
from lessons.s05_async_and_sync.settings import get_settings

from .conftest import ACME, GLOBEX, add_users


def test_async_url_names_the_async_driver_of_the_same_database():
    assert async_url("sqlite://").render_as_string() == "sqlite+aiosqlite://"
    assert async_url("sqlite:////tmp/shop.db").render_as_string() == "sqlite+aiosqlite:////tmp/shop.db"
    for url in ("postgresql+psycopg://postgres@127.0.0.1:5432/shop", "postgresql://postgres@127.0.0.1:5432/shop"):
        parsed = async_url(url)
        assert (parsed.drivername, parsed.database) == ("postgresql+psycopg", "shop")


def test_a_database_without_an_async_driver_is_refused_clearly():
    with pytest.raises(ValueError, match="no async driver is set up for 'mysql'"):
        async_url("mysql://root@127.0.0.1/shop")


def test_in_memory_sqlite_becomes_a_file_both_engines_can_open(tmp_path):
    assert shareable_url("sqlite://", tmp_path) == f"sqlite:///{tmp_path / 'storefront.db'}"
    for url in (f"sqlite:///{tmp_path / 'mine.db'}", "postgresql+psycopg://postgres@127.0.0.1/shop"):
        assert shareable_url(url, tmp_path) == url


def test_the_async_engine_refuses_an_in_memory_database_it_could_not_share():
    with pytest.raises(ValueError, match="in-memory"):
        create_async_db_engine("sqlite://")


def emails_through_async_session(client, tenant: str) -> list[str]:
    async def read() -> list[str]:
        async with client.app_state["async_sessions"][tenant]() as session:
            return list(await session.scalars(select(User.email).order_by(User.id)))

    return client.portal.call(read)


@pytest.mark.services
def test_both_engines_see_the_same_users_and_keep_the_tenants_apart(client):
    add_users(client, "acme", "ada@example.com", "grace@example.com")
    add_users(client, "globex", "hank@example.com")
    assert emails_through_async_session(client, "acme") == ["ada@example.com", "grace@example.com"]
    assert emails_through_async_session(client, "globex") == ["hank@example.com"]


def async_engine_of(client):
    return client.app_state["async_sessions"]["acme"].kw["bind"].sync_engine


@pytest.mark.services
def test_one_async_engine_for_the_app_five_requests_one_connection(client):
    opened: list[object] = []
    event.listen(async_engine_of(client), "connect", lambda dbapi_connection, record: opened.append(1))
    for _ in range(5):
        assert client.get("/lab/io/async-driver?seconds=0.01", headers=ACME).status_code == 200
    assert len(opened) <= 1  # the pool's connection, reused (none new if an earlier request opened it)


@pytest.fixture
def session_app(stage_env) -> FastAPI:
    """The stage's lifespan with two routes of our own on get_async_session: one commits, one fails midway."""
    demo = FastAPI(lifespan=lifespan)

    @demo.post("/commit/{email}")
    async def commit(email: str, session: AsyncSessionDep) -> int:
        session.add(User(email=email, name="Committed"))
        await session.commit()
        return await session.scalar(select(func.count()).select_from(User))

    @demo.post("/fail/{email}")
    async def fail(email: str, session: AsyncSessionDep) -> None:
        session.add(User(email=email, name="Half Written"))
        await session.flush()  # the row is sent to the database, inside the transaction...
        raise RuntimeError("payment provider unavailable")  # ...then the request fails

    return demo


@pytest.mark.services
def test_the_async_session_rolls_back_a_failed_request_and_returns_its_connection(session_app):
    with TestClient(session_app, raise_server_exceptions=False) as demo:
        assert demo.post("/commit/ada@example.com", headers=ACME).json() == 1
        assert demo.post("/fail/eve@example.com", headers=ACME).status_code == 500
        assert emails_through_async_session(demo, "acme") == ["ada@example.com"]
        assert async_engine_of(demo).pool.checkedout() == 0  # every session closed, its connection back


def test_the_embedded_database_is_a_scratch_file_deleted_when_the_app_stops(stage_env):
    get_settings.cache_clear()
    with TestClient(app) as client:
        database = Path(client.app_state["tenants"].get("acme").sessions.kw["bind"].engine.url.database)
        assert database.is_file() and database.parent.name.startswith("storefront-db-")
    assert not database.parent.exists()  # the lifespan disposed of both engines, then deleted it
    get_settings.cache_clear()


def test_the_tenant_header_is_required_for_async_routes_too(client):
    assert client.get("/lab/io/async-driver").status_code == 400
    assert client.get("/lab/io/async-driver", headers={"X-Tenant-ID": "initech"}).status_code == 404
    assert client.get("/lab/io/async-driver?seconds=0.01", headers=GLOBEX).status_code == 200


@pytest.mark.services
def test_the_async_engine_drives_the_configured_database_through_its_async_driver(client, services):
    dialect = async_engine_of(client).dialect
    assert dialect.is_async
    assert (dialect.name, dialect.driver) == (("postgresql", "psycopg") if services else ("sqlite", "aiosqlite"))

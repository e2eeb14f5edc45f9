"""The pitfalls stage 02 corrects, each shown failing and then fixed."""

import asyncio
from collections.abc import Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.security import APIKeyHeader
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from lessons.s02_advanced_dependencies.database import create_db_engine
from lessons.s02_advanced_dependencies.models import User
from lessons.s02_advanced_dependencies.rate_limiting import RateLimiter
from lessons.s02_advanced_dependencies.redis_client import create_redis
from lessons.s02_advanced_dependencies.tenancy import TenantRegistry, open_tenants, schema_for

from .conftest import ACME

REQUESTS = 5


# --- An engine made per request: a new pool, and new connections, every time ----------------------


@pytest.fixture
def connections_opened():
    """Count the database connections any pool opens during the test."""
    opened: list[object] = []

    def record(dbapi_connection, connection_record) -> None:
        opened.append(dbapi_connection)

    event.listen(Pool, "connect", record)
    yield opened
    event.remove(Pool, "connect", record)


def ping_app(get_session) -> FastAPI:
    demo = FastAPI()

    @demo.get("/ping")
    def ping(session: Annotated[Session, Depends(get_session)]) -> int:
        return session.scalar(text("SELECT 1"))

    return demo


def ping_five_times(demo: FastAPI) -> None:
    with TestClient(demo) as client:
        assert [client.get("/ping").json() for _ in range(REQUESTS)] == [1] * REQUESTS


def test_pitfall_an_engine_per_request_opens_a_connection_per_request(tmp_path, connections_opened):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engines: list[Engine] = []

    def get_session_with_its_own_engine():
        engine = create_engine(url)  # a new engine, so a new, empty pool
        engines.append(engine)
        with Session(engine) as session:
            yield session

    ping_five_times(ping_app(get_session_with_its_own_engine))
    for engine in engines:
        engine.dispose()
    assert (len(engines), len(connections_opened)) == (REQUESTS, REQUESTS)


def test_fixed_one_engine_reuses_its_pooled_connection(tmp_path, connections_opened):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'shop.db'}")

    def get_session():
        with Session(engine) as session:
            yield session

    ping_five_times(ping_app(get_session))
    engine.dispose()
    assert len(connections_opened) == 1


# --- A tenant id pasted into SQL: injection, and state that leaks between requests ---------------


@pytest.fixture
def tenants(database_url) -> Iterator[TenantRegistry]:
    """Two tenants with one user each, on one engine, as the app sets them up."""
    engine = create_db_engine(database_url, schemas=[schema_for("acme"), schema_for("globex")])
    registry = open_tenants(engine, ["acme", "globex"])
    for tenant_id, email in (("acme", "ada@acme.example"), ("globex", "hank@globex.example")):
        with registry.get(tenant_id).sessions() as session:
            session.add(User(email=email, name=email.split("@")[0]))
            session.commit()
    yield registry
    engine.dispose()


def engine_of(tenants: TenantRegistry) -> Engine:
    return tenants.get("acme").sessions.kw["bind"].engine


def point_connection_at(connection, schema: str) -> None:
    """What naive tenancy code does: change the connection so that `users` means this tenant's table."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SET search_path TO {schema}"))
    else:
        # SQLite looks up unqualified names in the TEMP schema first: the same effect.
        connection.execute(text(f"CREATE TEMP VIEW users AS SELECT * FROM {schema}.users"))


@pytest.mark.services
def test_pitfall_a_tenant_id_pasted_into_sql_runs_the_callers_sql(tenants):
    header = "acme.users UNION SELECT email FROM tenant_globex"
    naive = f"SELECT email FROM tenant_{header}.users"
    with engine_of(tenants).connect() as connection:
        emails = connection.execute(text(naive)).scalars().all()
    assert sorted(emails) == ["ada@acme.example", "hank@globex.example"]  # globex's users, shown to acme


@pytest.mark.services
def test_pitfall_a_connection_level_setting_leaks_to_the_next_request(tenants):
    engine = engine_of(tenants)
    with engine.connect() as connection:  # a request for acme
        point_connection_at(connection, "tenant_acme")
        connection.commit()
    # The connection went back to the pool still pointed at acme. The next request
    # to check it out (for globex, say, on a path that forgot to set it) reads acme.
    with engine.connect() as connection:
        assert connection.execute(text("SELECT email FROM users")).scalars().all() == ["ada@acme.example"]


def test_fixed_the_registry_refuses_the_crafted_tenant_before_any_sql(client, statements):
    crafted = "acme.users UNION SELECT email FROM tenant_globex"
    response = client.get("/users/ada@acme.example", headers={"X-Tenant-ID": crafted})
    assert response.status_code == 400
    assert statements == []


@pytest.mark.services
def test_fixed_schema_translate_map_leaves_nothing_on_the_connection(tenants):
    for tenant_id, emails in (("acme", ["ada@acme.example"]), ("globex", ["hank@globex.example"])) * 2:
        with tenants.get(tenant_id).sessions() as session:
            assert session.scalars(select(User.email)).all() == emails
    with engine_of(tenants).connect() as connection:
        if connection.dialect.name == "postgresql":
            assert connection.execute(text("SHOW search_path")).scalar_one() == '"$user", public'
        else:
            assert connection.execute(text("SELECT count(*) FROM sqlite_temp_master")).scalar_one() == 0


# --- INCR then EXPIRE: a counter that never expires after a crash --------------------------------


def with_redis(redis_url, scenario):
    async def run():
        redis = create_redis(redis_url)
        try:
            return await scenario(redis)
        finally:
            await redis.aclose()

    return asyncio.run(run())


@pytest.mark.services
def test_pitfall_incr_then_expire_leaves_a_counter_without_expiry(redis_url):
    async def naive_hit_that_crashes(redis):
        await redis.incr("rate-limit:acme:10.0.0.1")
        raise ConnectionError("the worker died here, before its EXPIRE")

    async def scenario(redis):
        with pytest.raises(ConnectionError):
            await naive_hit_that_crashes(redis)
        return await redis.ttl("rate-limit:acme:10.0.0.1")

    assert with_redis(redis_url, scenario) == -1  # -1: the key exists and never expires


@pytest.mark.services
def test_fixed_one_transaction_counts_every_hit_and_always_sets_the_expiry(redis_url):
    async def scenario(redis):
        limiter = RateLimiter()
        hits = await asyncio.gather(*(limiter.hit(redis, "rate-limit:acme:10.0.0.1") for _ in range(20)))
        return sorted(count for count, _ in hits), await redis.ttl("rate-limit:acme:10.0.0.1")

    counts, seconds_left = with_redis(redis_url, scenario)
    assert counts == list(range(1, 21))  # twenty concurrent hits, none lost or counted twice
    assert 1 <= seconds_left <= 60


# --- Depends(lambda: an async context manager): the context is never entered ----------------------


def connection_app(dependency, events: list[str]) -> FastAPI:
    demo = FastAPI()

    @demo.get("/connection")
    def which(connection: Annotated[Any, Depends(dependency)]) -> str:
        events.append("route ran")
        return connection if isinstance(connection, str) else type(connection).__name__

    return demo


def recording_connection(events: list[str]):
    @asynccontextmanager
    async def checked_out_connection():
        events.append("entered")
        yield "a connection"
        events.append("exited")

    return checked_out_connection


def test_pitfall_depends_on_a_lambda_hands_over_an_unentered_context_manager():
    events: list[str] = []
    checked_out_connection = recording_connection(events)
    demo = connection_app(lambda: checked_out_connection(), events)
    with TestClient(demo) as client:
        assert client.get("/connection").json() == "_AsyncGeneratorContextManager"
    assert events == ["route ran"]  # __aenter__ never ran, and neither did the clean-up


def test_fixed_an_async_yield_dependency_enters_and_exits_the_context():
    events: list[str] = []
    checked_out_connection = recording_connection(events)

    async def get_connection():
        async with checked_out_connection() as connection:
            yield connection

    with TestClient(connection_app(get_connection, events)) as client:
        assert client.get("/connection").json() == "a connection"
    assert events == ["entered", "route ran", "exited"]


# --- Missing credentials: FastAPI's security classes answer 401, no longer 403 ---------------------


def test_pitfall_missing_credentials_answer_401_not_the_403_older_code_expects():
    demo = FastAPI()

    @demo.get("/secret")
    def secret(api_key: Annotated[str, Depends(APIKeyHeader(name="X-API-Key"))]) -> str:
        return "secret"

    with TestClient(demo) as client:
        response = client.get("/secret")
    # Tests and clients written for FastAPI before 0.122 expect 403 here.
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "APIKey"


def test_fixed_the_stage_answers_401_without_a_key_and_403_only_for_a_missing_permission(client):
    without_key = client.delete("/users/ada@acme.example", headers=ACME)
    viewer = client.delete("/users/ada@acme.example", headers={**ACME, "X-API-Key": "acme-viewer-key"})
    assert (without_key.status_code, viewer.status_code) == (401, 403)

"""The pitfalls stage 02 corrects, each shown failing and then fixed."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx2
import pytest
from fastapi import Depends, FastAPI
from fastapi.security import APIKeyHeader
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from lessons.s02_advanced_dependencies.database import create_db_engine
from lessons.s02_advanced_dependencies.main import app
from lessons.s02_advanced_dependencies.models import User
from lessons.s02_advanced_dependencies.rate_limiting import RateLimiter
from lessons.s02_advanced_dependencies.redis_client import create_redis
from lessons.s02_advanced_dependencies.settings import get_settings
from lessons.s02_advanced_dependencies.tenancy import TenantRegistry, open_tenants, schema_for
from workbook.broker import embedded_broker
from workbook.serving import proxy_arguments, proxy_options, running
from workbook.stages import ROOT

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


# --- A Redis client made at import time ------------------------------------------------------------

# The pitfall's module: the client is made the moment the module is imported.
IMPORT_TIME_CLIENT = """
import redis
import redis.asyncio

from lessons.s02_advanced_dependencies.settings import get_settings

sync_client = redis.Redis.from_url(get_settings().redis_url)
async_client = redis.asyncio.Redis.from_url(get_settings().redis_url)
"""


def run_with_import_time_client(tmp_path, code: str, redis_url: str | None) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter that can import the pitfall's module as `shop_redis`."""
    (tmp_path / "shop_redis.py").write_text(IMPORT_TIME_CLIENT)
    env = {name: value for name, value in os.environ.items() if name != "WORKBOOK_REDIS_URL"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT)])
    if redis_url:
        env["WORKBOOK_REDIS_URL"] = redis_url
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_pitfall_a_client_made_at_import_crashes_the_import_without_a_url(tmp_path):
    done = run_with_import_time_client(tmp_path, "import shop_redis", redis_url=None)
    assert done.returncode != 0, "with no WORKBOOK_REDIS_URL the module cannot even be imported"
    assert "AttributeError" in done.stderr, done.stderr


def test_pitfall_a_sync_client_awaited_raises_and_an_async_one_stays_bound_to_its_first_loop(tmp_path):
    code = """
import asyncio
import shop_redis

async def sync_hit():
    return await shop_redis.sync_client.incr("sync-hits")

try:
    asyncio.run(sync_hit())
except TypeError as error:
    print("sync:", error)

async def hit():
    return await shop_redis.async_client.incr("async-hits")

print("first loop:", asyncio.run(hit()))
try:
    asyncio.run(hit())
except RuntimeError as error:
    print("second loop:", error)
"""
    with embedded_broker() as url:
        done = run_with_import_time_client(tmp_path, code, redis_url=url)
    assert "sync: object int can't be used in 'await' expression" in done.stdout, done.stdout + done.stderr
    assert "first loop: 1" in done.stdout, "the async client works in the loop that first uses it"
    assert "second loop: Event loop is closed" in done.stdout, done.stdout + done.stderr


def test_fixed_the_lifespan_builds_a_client_for_each_run_of_the_app(monkeypatch):
    with embedded_broker() as url:
        monkeypatch.setenv("WORKBOOK_REDIS_URL", url)
        get_settings.cache_clear()
        clients = []
        try:
            # Each TestClient runs the app in an event loop of its own, as two test runs would.
            for _ in range(2):
                with TestClient(app) as client:
                    assert client.get("/users/nobody@example.com", headers=ACME).status_code == 404
                    clients.append(client.app_state["redis"])
        finally:
            get_settings.cache_clear()
    assert clients[0] is not clients[1], "each start of the app builds its own client, in its own loop"


# --- request.client.host behind a reverse proxy ------------------------------------------------------

PROXY, STRANGER = "127.0.0.1", "127.0.0.2"  # two peers on loopback: the proxy, and a caller who is not one
LIMITED = 3


def refused(url: str, peer: str, forwarded_for: list[str]) -> list[bool]:
    """One rate-limited request from `peer` per X-Forwarded-For value; True where it was refused with 429.

    DELETE without an API key passes the rate limit, then stops at 401: the limit
    is counted, and nothing else happens.
    """
    transport = httpx2.HTTPTransport(local_address=peer)
    with httpx2.Client(transport=transport, base_url=url, headers=ACME) as client:
        codes = [
            client.delete("/users/x@example.com", headers={"X-Forwarded-For": ip}).status_code for ip in forwarded_for
        ]
    assert set(codes) <= {401, 429}, codes
    return [code == 429 for code in codes]


@pytest.fixture
def limited(monkeypatch) -> Iterator[None]:
    monkeypatch.setenv("WORKBOOK_RATE_LIMIT_PER_MINUTE", str(LIMITED))
    monkeypatch.delenv("WORKBOOK_TRUSTED_PROXIES", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


SERVED = "lessons.s02_advanced_dependencies.main:app"


def test_pitfall_behind_a_proxy_without_its_header_every_client_shares_the_proxys_count(limited):
    with running(SERVED, proxy_headers=False) as url:
        ann = refused(url, PROXY, ["203.0.113.7"] * LIMITED)
        bob = refused(url, PROXY, ["198.51.100.4"])
    assert ann == [False] * LIMITED
    assert bob == [True], "Bob's first request is refused: Ann used up the proxy's count"


def test_pitfall_believing_the_header_from_anyone_lets_a_caller_choose_its_count(limited):
    with running(SERVED, forwarded_allow_ips="*") as url:
        spoofed = refused(url, STRANGER, [f"203.0.113.{n}" for n in range(LIMITED + 3)])
    assert spoofed == [False] * (LIMITED + 3), "a new made-up address each time, never refused"


def test_fixed_the_header_is_believed_from_the_trusted_proxies_only(limited, monkeypatch):
    monkeypatch.setenv("WORKBOOK_TRUSTED_PROXIES", json.dumps([PROXY]))
    assert proxy_options(SERVED) == {"forwarded_allow_ips": [PROXY]}
    with running(SERVED) as url:  # the stage's own proxy settings, as make serve uses them
        ann = refused(url, PROXY, ["203.0.113.7"] * LIMITED)
        bob = refused(url, PROXY, ["198.51.100.4"])
        stranger = refused(url, STRANGER, [f"203.0.113.{n}" for n in range(LIMITED + 1)])
    assert ann == [False] * LIMITED and bob == [False], "through the proxy, each client has a count of its own"
    assert stranger == [False] * LIMITED + [True], "a caller who is not a proxy is counted by its own address"


def test_fixed_by_default_no_peer_is_believed(limited):
    assert proxy_options(SERVED) == {"proxy_headers": False}
    assert proxy_arguments(SERVED) == ["--no-proxy-headers"]
    with running(SERVED) as url:
        from_loopback = refused(url, PROXY, [f"203.0.113.{n}" for n in range(LIMITED + 1)])
    assert from_loopback == [False] * LIMITED + [True], "uvicorn's default would believe loopback; the stage does not"

"""The database engine, the declarative base, and one schema per tenant.

Every tenant's tables live in a schema of their own, all served by ONE engine
(one connection pool). The models name a placeholder schema, `TENANT_SCHEMA`;
each tenant gets a view of the engine whose `schema_translate_map` swaps the
placeholder for its real schema as each statement is compiled. Nothing is set on
the connection itself, so nothing can leak from one request to the next.

The tables themselves are made and changed by Alembic migrations, schema by
schema (schema_migrations.py). Several processes start at once (`uvicorn
--workers 4`, the app beside a Celery worker), and each migrates, or seeds the
demo rows, only while it holds a PostgreSQL advisory lock (`hold_startup_lock`):
one works, the others wait, then find it all done.
"""

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, func, make_url, select
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import StaticPool

# The schema the models are declared in; never a real schema.
TENANT_SCHEMA = "tenant"
# The advisory lock's key: any 64-bit number that nothing else in the database locks.
STARTUP_LOCK_KEY = 4_200_042


class Base(DeclarativeBase):
    pass


def create_db_engine(
    url: str, schemas: Iterable[str] = (), echo: bool = False, pool: Mapping[str, Any] | None = None
) -> Engine:
    """Build the application's one engine; it owns the connection pool.

    Call it once, at start-up. An engine made per request would open a new pool,
    and new connections, for every request.

    `schemas` are the tenants' schemas. PostgreSQL keeps them in the database
    (see schema_migrations.py); SQLite has no schemas, but an attached database
    plays the part, and each new connection has to attach them again.

    `pool` holds the pool's options (pool_size, pool_timeout...: pool_sizing.py).
    The in-memory SQLite database has one connection and so no use for them.
    """
    parsed = make_url(url)
    pool = {"pool_pre_ping": True, **(pool or {})}
    if parsed.get_backend_name() != "sqlite":
        # Each process names its connections, so pg_stat_activity shows which process holds which.
        return create_engine(url, echo=echo, connect_args={"application_name": f"storefront-{os.getpid()}"}, **pool)
    if is_in_memory(parsed):
        # An in-memory SQLite database lives inside a single connection: a second
        # connection would see an empty database. StaticPool hands that one
        # connection to every session. Good for learning; a file or PostgreSQL
        # is what serves concurrent requests.
        engine = create_engine(url, echo=echo, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        engine = create_engine(url, echo=echo, **pool)
    attach_schemas_on_connect(engine, parsed, schemas)
    return engine


def is_in_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def attach_schemas_on_connect(engine: Engine, url: URL, schemas: Iterable[str]) -> None:
    """SQLite: attach each tenant's database, under its schema name, to every new connection.

    `engine` is a sync Engine because pool events are synchronous: for an
    AsyncEngine, pass its `sync_engine`.
    """
    database = url.database or ":memory:"  # no database named is an in-memory one too
    in_memory = database == ":memory:"
    files = {schema: ":memory:" if in_memory else _file_beside(database, schema) for schema in schemas}

    @event.listens_for(engine, "connect")
    def attach_tenant_schemas(dbapi_connection, connection_record) -> None:
        # Through a cursor, which both sqlite3 and the async drivers' adapted connections offer.
        cursor = dbapi_connection.cursor()
        for schema, file in files.items():
            # The file is a bound parameter; a schema name cannot be one. It comes
            # from the tenant registry, which accepts only [a-z][a-z0-9_]* names.
            cursor.execute(f'ATTACH DATABASE ? AS "{schema}"', (file,))
        cursor.close()


def _file_beside(database: str, schema: str) -> str:
    main = Path(database)
    return str(main.with_name(f"{main.stem}.{schema}{main.suffix}"))


def tenant_engine(engine: Engine, schema: str) -> Engine:
    """A view of `engine` (same pool) whose statements use `schema` for the models' tables."""
    return engine.execution_options(schema_translate_map={TENANT_SCHEMA: schema})


def hold_startup_lock(connection: Connection) -> None:
    """Wait until no other process holds the start-up lock, then hold it until this transaction ends.

    On PostgreSQL, a transaction-level advisory lock: COMMIT or ROLLBACK releases it,
    and so does a process that dies mid-start-up (its connection closes), so no lock
    outlives the work it guards. On a SQLite file, whose processes (uvicorn's workers,
    say) start side by side too, SQLite's own write lock, taken at once by BEGIN
    IMMEDIATE on the main database and every attached one, rather than at the first
    write: another process's BEGIN IMMEDIATE waits for it (up to the busy timeout).
    """
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(STARTUP_LOCK_KEY)))
    elif not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        # The driver opens a transaction only at the first write: open it now, for writing.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

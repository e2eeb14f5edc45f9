"""The async engine: the same database and the same tenants, reached without blocking the event loop.

`create_async_engine` needs an async driver: aiosqlite for SQLite (it runs each
sqlite3 call in a thread of its own and hands the event loop an awaitable) and
psycopg's async mode for PostgreSQL (the event loop watches the socket). Tenancy
works exactly as in database.py: one engine, and per tenant a view of it whose
`schema_translate_map` swaps the placeholder schema for the tenant's.
"""

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from .database import TENANT_SCHEMA, attach_schemas_on_connect, is_in_memory

# The async driver SQLAlchemy should use for each database.
ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "psycopg"}


def async_url(url: str) -> URL:
    """The same database, named with its async driver: sqlite:// becomes sqlite+aiosqlite://."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in ASYNC_DRIVERS:
        raise ValueError(f"no async driver is set up for {backend!r} databases (known: {', '.join(ASYNC_DRIVERS)})")
    return parsed.set(drivername=f"{backend}+{ASYNC_DRIVERS[backend]}")


def shareable_url(url: str, folder: Path) -> str:
    """A URL both engines can open and see the same data through.

    An in-memory SQLite database lives inside one connection, so the async
    engine, with connections of its own, would find it empty. When the settings
    ask for one, both engines use a file in `folder` instead; the lifespan
    deletes the folder at shutdown, so every start is still a fresh shop.
    """
    if is_in_memory(make_url(url)):
        return f"sqlite:///{folder / 'storefront.db'}"
    return url


def create_async_db_engine(url: str, schemas: Iterable[str] = (), echo: bool = False) -> AsyncEngine:
    """Build the application's one async engine (made once, in the lifespan, like the sync one)."""
    target = async_url(url)
    if target.get_backend_name() != "sqlite":
        return create_async_engine(target, echo=echo, pool_pre_ping=True)
    if is_in_memory(target):
        raise ValueError("an async engine cannot share an in-memory SQLite database: use shareable_url() first")
    engine = create_async_engine(target, echo=echo)
    # Pool events are synchronous, so they are registered on the sync Engine that
    # the AsyncEngine drives; registering them on the AsyncEngine itself raises.
    attach_schemas_on_connect(engine.sync_engine, target, schemas)
    return engine


def async_tenant_sessions(engine: AsyncEngine, schemas: dict[str, str]) -> dict[str, async_sessionmaker[AsyncSession]]:
    """An AsyncSession factory per tenant id, each bound to the tenant's view of the one async engine.

    expire_on_commit=False matters more here than for sync sessions: reading an
    expired attribute would need a lazy load, which an AsyncSession cannot do
    behind your back (it raises MissingGreenlet instead).
    """
    return {
        tenant_id: async_sessionmaker(
            engine.execution_options(schema_translate_map={TENANT_SCHEMA: schema}), expire_on_commit=False
        )
        for tenant_id, schema in schemas.items()
    }

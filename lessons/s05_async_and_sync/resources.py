"""The app's resources: built once when it starts, released when it stops.

`lifespan` is FastAPI's hook for both ends of the app's life. Each resource has
a small helper here that makes it and registers how to release it, so a new
resource is one more line in `lifespan`.
"""

import multiprocessing
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .async_database import async_tenant_sessions, create_async_db_engine, shareable_url
from .database import create_db_engine
from .logging_config import configure_logging
from .media import ImageStore
from .principals import demo_principals
from .redis_client import create_redis
from .settings import Settings, get_settings
from .slow_query import install_pg_sleep
from .tenancy import open_tenants, schema_for


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    # Application scope: built once when the app starts, released when it stops.
    settings = get_settings()
    configure_logging()
    # FastAPI runs `def` routes and dependencies in anyio's thread pool. Its limit
    # belongs to the event loop, so it is set here, on the loop that serves requests.
    to_thread.current_default_thread_limiter().total_tokens = settings.thread_limit
    # Each resource registers its clean-up as soon as it is made: when the app stops
    # (or a later resource fails to start) they run in reverse order.
    async with AsyncExitStack() as cleanup:
        url = open_database_url(settings, cleanup)
        engine = open_database(url, settings, cleanup)
        redis = open_redis(settings, cleanup)
        # What the lifespan yields is copied into every request's `request.state`.
        yield {
            "tenants": open_tenants(engine, settings.tenants),
            "async_sessions": open_async_sessions(url, settings, cleanup),
            "process_pool": open_process_pool(settings, cleanup),
            "principals": demo_principals(settings.tenants),
            "redis": redis,
            "images": ImageStore(open_media_folder(settings, cleanup)),
        }


def open_database_url(settings: Settings, cleanup: AsyncExitStack) -> str:
    """The database both engines open: the embedded default's in-memory one becomes a scratch file."""
    # An in-memory SQLite database lives inside one connection, which the async
    # engine cannot share (see async_database.py). The folder goes when the app stops.
    scratch = Path(cleanup.enter_context(TemporaryDirectory(prefix="storefront-db-")))
    return shareable_url(settings.database_url, scratch)


def open_database(url: str, settings: Settings, cleanup: AsyncExitStack) -> Engine:
    """The app's one engine, and so its one connection pool, with every tenant's schema attached."""
    schemas = [schema_for(tenant_id) for tenant_id in settings.tenants]
    engine = create_db_engine(url, schemas=schemas, echo=settings.sql_echo)
    cleanup.callback(engine.dispose)
    install_pg_sleep(engine)  # the slow query of the /lab routes
    return engine


def open_async_sessions(
    url: str, settings: Settings, cleanup: AsyncExitStack
) -> dict[str, async_sessionmaker[AsyncSession]]:
    """The same database through an async driver, for `async def` routes: an AsyncSession factory per tenant.

    A real app would usually pick one driver; this stage keeps both to compare them.
    """
    schemas = {tenant_id: schema_for(tenant_id) for tenant_id in settings.tenants}
    engine = create_async_db_engine(url, schemas=schemas.values(), echo=settings.sql_echo)
    cleanup.push_async_callback(engine.dispose)
    install_pg_sleep(engine.sync_engine)  # pool events go on the sync engine inside
    return async_tenant_sessions(engine, schemas)


def open_redis(settings: Settings, cleanup: AsyncExitStack) -> Redis:
    """The app's one Redis client; it opens connections on first use."""
    redis = create_redis(settings.redis_url)
    cleanup.push_async_callback(redis.aclose)
    return redis


def open_media_folder(settings: Settings, cleanup: AsyncExitStack) -> Path:
    """Where uploaded images and thumbnails are kept: the configured folder, or a temporary one."""
    if settings.media_dir is not None:
        return settings.media_dir
    # The embedded default, like the in-memory database: a fresh, empty folder
    # for this run, removed (with everything in it) when the app stops.
    return Path(cleanup.enter_context(TemporaryDirectory(prefix="storefront-media-")))


def open_process_pool(settings: Settings, cleanup: AsyncExitStack) -> ProcessPoolExecutor:
    """Worker processes for CPU-bound work, started on first use."""
    # "spawn" starts each from a fresh interpreter: forking this process, which runs
    # threads, could copy a lock that some other thread holds, and the child would hang on it.
    pool = ProcessPoolExecutor(settings.process_pool_workers, mp_context=multiprocessing.get_context("spawn"))
    cleanup.callback(pool.shutdown, cancel_futures=True)
    return pool

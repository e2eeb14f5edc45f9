"""The app's resources: built once when it starts, released when it stops.

`lifespan` is FastAPI's hook for both ends of the app's life. Each resource has
a small helper here that makes it and registers how to release it, so a new
resource is one more line in `lifespan`.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx2
from anyio import to_thread
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import Engine

from .cache_invalidation import invalidation_listener
from .database import create_db_engine
from .demo_admins import seed_demo_admins
from .demo_products import seed_demo_products
from .logging_config import configure_logging
from .media import ImageStore
from .metrics import metrics_registry
from .outbound import create_http_client
from .passwords import PasswordHasher
from .permissions import PermissionCache
from .pool_sizing import pool_options, refuse_oversized_pool
from .pool_watch import PoolWatch, WaitCountingPool
from .product_cache import ProductCaches, product_caches
from .production_checks import refuse_unsafe_settings
from .readiness import ReadinessChecks
from .redis_client import create_redis
from .revocation import TokenRevocation
from .roles import seed_role_permissions
from .settings import Settings, get_settings
from .sql_timing import time_statements
from .statement_timeouts import limit_statements
from .tenancy import open_tenants, schema_for
from .token_service import open_token_service
from .token_versions import TokenVersions


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    # Application scope: built once when the app starts, released when it stops.
    settings = get_settings()
    configure_logging(settings.log_level)
    refuse_unsafe_settings(settings)  # production: every laptop-only setting named, before anything opens
    tokens = open_token_service(settings)
    # FastAPI runs `def` routes and dependencies in anyio's thread pool. Its limit
    # belongs to the event loop, so it is set here, on the loop that serves requests.
    to_thread.current_default_thread_limiter().total_tokens = settings.thread_limit
    # Each resource registers its clean-up as soon as it is made: when the app stops
    # (or a later resource fails to start) they run in reverse order.
    async with AsyncExitStack() as cleanup:
        engine = open_database(settings, cleanup)
        pool = PoolWatch(engine, settings.pool_size, settings.max_overflow)
        refuse_oversized_pool(engine, settings)  # too big for the server: refuse now, not under load
        tenants = open_tenants(engine, settings.tenants, settings.migrate_at_startup)  # or refuses
        redis = open_redis(settings, cleanup)
        passwords = PasswordHasher(settings.bcrypt_rounds)
        seed_demo_admins(tenants, passwords, settings)
        seed_role_permissions(tenants)
        seed_demo_products(tenants)
        limit_statements(tenants, settings.statement_timeout_ms)  # from here on: the requests' transactions
        # What the lifespan yields is copied into every request's `request.state`.
        yield {
            "tenants": tenants,
            "redis": redis,
            "passwords": passwords,
            "tokens": tokens,
            "revocation": TokenRevocation(redis),
            "token_versions": TokenVersions(),
            "permissions": PermissionCache(redis, settings.permission_cache_seconds),
            "images": ImageStore(open_media_folder(settings, cleanup)),
            "pool": pool,
            "metrics": metrics_registry(pool),
            "product_caches": await open_product_caches(settings, redis, cleanup),
            "http": open_http_client(settings, cleanup),
            "readiness": ReadinessChecks(pool, redis, settings),
        }


def open_database(settings: Settings, cleanup: AsyncExitStack) -> Engine:
    """The app's one engine, and so its one connection pool, with every tenant's schema attached."""
    schemas = [schema_for(tenant_id) for tenant_id in settings.tenants]
    pool = {**pool_options(settings), "poolclass": WaitCountingPool}
    # Not echo=True: SQLAlchemy would add a handler of its own, in plain text. Its logger
    # at INFO sends the statements through the JSON handler instead (logging_config.py).
    engine = create_db_engine(settings.database_url, schemas=schemas, pool=pool)
    if settings.sql_echo:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    time_statements(engine)  # each statement's duration, at DEBUG (sql_timing.py)
    cleanup.callback(engine.dispose)
    return engine


def open_redis(settings: Settings, cleanup: AsyncExitStack) -> Redis:
    """The app's one Redis client; it opens connections on first use."""
    redis = create_redis(settings.redis_url)
    cleanup.push_async_callback(redis.aclose)
    return redis


async def open_product_caches(settings: Settings, redis: Redis, cleanup: AsyncExitStack) -> ProductCaches:
    """Product reads cached here and in Redis, and the listener that hears other processes' writes."""
    caches = product_caches(settings, redis)
    if settings.product_cache_broadcast:
        await cleanup.enter_async_context(invalidation_listener(redis, caches.tiers))
    return caches


def open_http_client(settings: Settings, cleanup: AsyncExitStack) -> httpx2.AsyncClient:
    """The app's one HTTP client: its pool keeps connections, TLS done, from one request to the next."""
    client = create_http_client(settings)
    cleanup.push_async_callback(client.aclose)
    return client


def open_media_folder(settings: Settings, cleanup: AsyncExitStack) -> Path:
    """Where uploaded images and thumbnails are kept: the configured folder, or a temporary one."""
    if settings.media_dir is not None:
        return settings.media_dir
    # The embedded default, like the in-memory database: a fresh, empty folder
    # for this run, removed (with everything in it) when the app stops.
    return Path(cleanup.enter_context(TemporaryDirectory(prefix="storefront-media-")))

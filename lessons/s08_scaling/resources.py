"""The app's resources: built once when it starts, released when it stops.

`lifespan` is FastAPI's hook for both ends of the app's life. Each resource has
a small helper here that makes it and registers how to release it, so a new
resource is one more line in `lifespan`.
"""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx2
import structlog
from anyio import to_thread
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import Engine

from .database import create_db_engine
from .demo_admins import seed_demo_admins
from .jose_codec import JoseCodec
from .jwt_codec import JwtCodec
from .logging_config import configure_logging
from .media import ImageStore
from .outbound import create_http_client
from .passwords import PasswordHasher
from .permissions import PermissionCache
from .pyjwt_codec import PyJWTCodec
from .redis_client import create_redis
from .revocation import TokenRevocation
from .roles import seed_role_permissions
from .settings import Settings, get_settings
from .signing_keys import signing_key
from .tenancy import open_tenants, schema_for
from .tokens import TokenService

# The JWT libraries the token service can use, by the name WORKBOOK_JWT_LIBRARY gives.
JWT_CODECS: dict[str, type[JwtCodec]] = {"pyjwt": PyJWTCodec, "jose": JoseCodec}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    # Application scope: built once when the app starts, released when it stops.
    settings = get_settings()
    configure_logging()
    tokens = open_token_service(settings)  # first, because it may refuse to start
    # FastAPI runs `def` routes and dependencies in anyio's thread pool. Its limit
    # belongs to the event loop, so it is set here, on the loop that serves requests.
    to_thread.current_default_thread_limiter().total_tokens = settings.thread_limit
    # Each resource registers its clean-up as soon as it is made: when the app stops
    # (or a later resource fails to start) they run in reverse order.
    async with AsyncExitStack() as cleanup:
        tenants = open_tenants(open_database(settings, cleanup), settings.tenants)
        redis = open_redis(settings, cleanup)
        passwords = PasswordHasher(settings.bcrypt_rounds)
        seed_demo_admins(tenants, passwords, settings)
        seed_role_permissions(tenants)
        # What the lifespan yields is copied into every request's `request.state`.
        yield {
            "tenants": tenants,
            "redis": redis,
            "passwords": passwords,
            "tokens": tokens,
            "revocation": TokenRevocation(redis),
            "permissions": PermissionCache(redis, settings.permission_cache_seconds),
            "images": ImageStore(open_media_folder(settings, cleanup)),
            "http": open_http_client(settings, cleanup),
        }


def open_token_service(settings: Settings) -> TokenService:
    """Signs and checks the JWTs. Better to refuse a bad key now than on the first log-in."""
    key, is_development_key = signing_key(settings)
    if is_development_key:
        structlog.get_logger().warning(
            "jwt.development_key",
            detail="tokens are signed with the public development key; set WORKBOOK_JWT_SECRET_KEY",
        )
    return TokenService(
        key,
        codec=JWT_CODECS[settings.jwt_library](),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        access_lifetime=timedelta(minutes=settings.access_token_minutes),
        refresh_lifetime=timedelta(days=settings.refresh_token_days),
    )


def open_database(settings: Settings, cleanup: AsyncExitStack) -> Engine:
    """The app's one engine, and so its one connection pool, with every tenant's schema attached."""
    schemas = [schema_for(tenant_id) for tenant_id in settings.tenants]
    engine = create_db_engine(settings.database_url, schemas=schemas, echo=settings.sql_echo)
    cleanup.callback(engine.dispose)
    return engine


def open_redis(settings: Settings, cleanup: AsyncExitStack) -> Redis:
    """The app's one Redis client; it opens connections on first use."""
    redis = create_redis(settings.redis_url)
    cleanup.push_async_callback(redis.aclose)
    return redis


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

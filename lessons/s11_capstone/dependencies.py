"""The providers FastAPI calls to build what a route asks for.

The graph for POST /users/register (see the notebook for it drawn from the app itself):

    RateLimiter              (in `dependencies=`: run for its side effect)
    ├── get_tenant
    ├── get_redis
    └── current_settings
    get_user_service
    ├── get_user_repository
    │   └── get_session
    │       └── get_tenant   (the tenant found above: FastAPI caches it per request)
    ├── get_audit_log
    │   └── get_session      (the same session as the repository's)
    ├── get_logger
    │   └── current_settings (the same Settings for the whole app: lru_cache)
    └── get_password_hasher  (made once in the lifespan: bcrypt at the configured cost)
    get_welcome_queue        (queues the welcome email; tests swap it for a recorder)

POST /users/{user_id}/profile-image adds get_profile_images (the same session,
the ImageStore made at start-up, the tenant) and get_jobs (jobs.py), which wraps
the BackgroundTasks FastAPI runs after the response.
"""

from collections.abc import Callable, Iterator
from typing import Annotated

import structlog
from fastapi import Depends, Header, HTTPException, Request, status
from redis.asyncio import Redis
from sqlalchemy.orm import Session
from structlog.typing import FilteringBoundLogger

from .media import ImageStore
from .passwords import PasswordHasher
from .product_repository import ProductRepository, SqlAlchemyProductRepository
from .profile_images import ProfileImageService
from .repositories import AuditLog, SqlAlchemyUserRepository, UserRepository
from .services import UserService
from .settings import Settings, get_settings
from .tasks import send_welcome_email
from .tenancy import Tenant, TenantRegistry, is_valid_tenant_id


# The providers a request resolves often do no I/O: `async def`, so FastAPI calls them on
# the event loop. A plain `def` would be sent to a worker thread and back, each time.
async def current_settings() -> Settings:
    return get_settings()


SettingsDep = Annotated[Settings, Depends(current_settings)]


async def get_tenant(
    request: Request,
    # Optional here so that a missing header gets our 400, not FastAPI's generic 422.
    tenant_id: Annotated[str | None, Header(alias="X-Tenant-ID")] = None,
) -> Tenant:
    """The request's tenant, or a 400/404 before anything touches the database."""
    return find_tenant(request.state.tenants, tenant_id)


def find_tenant(registry: TenantRegistry, tenant_id: str | None) -> Tenant:
    """The tenant an X-Tenant-ID header names, or the 400/404 that says what is wrong with it."""
    if tenant_id is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "The X-Tenant-ID header is required")
    if not is_valid_tenant_id(tenant_id):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            "X-Tenant-ID must be 2 to 31 lowercase letters, digits or underscores, starting with a letter",
        )
    tenant = registry.get(tenant_id)
    if tenant is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No tenant {tenant_id!r}")
    return tenant


TenantDep = Annotated[Tenant, Depends(get_tenant)]


def get_session(tenant: TenantDep) -> Iterator[Session]:
    """One session per request, from the tenant's factory built at start-up.

    The service commits before the route returns. This dependency guarantees the
    other outcomes: if anything raised, roll back; whatever happened, close.
    It must not commit after `yield`: FastAPI runs that code after the response
    has been sent, so a failed commit would still have answered 200.
    """
    session = tenant.sessions()
    try:
        yield session
    except Exception:
        session.rollback()
        raise  # re-raise, or FastAPI never learns the request failed
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def get_redis(request: Request) -> Redis:
    return request.state.redis


RedisDep = Annotated[Redis, Depends(get_redis)]


def get_password_hasher(request: Request) -> PasswordHasher:
    return request.state.passwords


PasswordHasherDep = Annotated[PasswordHasher, Depends(get_password_hasher)]


def get_logger(request: Request, settings: SettingsDep) -> FilteringBoundLogger:
    return structlog.get_logger().bind(app=settings.app_name, method=request.method, path=request.url.path)


def get_user_repository(session: SessionDep) -> UserRepository:
    """The storage adapter for users. Tests swap in InMemoryUserRepository by
    overriding this one provider; the service never notices."""
    return SqlAlchemyUserRepository(session)


def get_audit_log(session: SessionDep) -> AuditLog:
    return AuditLog(session)


def get_user_service(
    users: Annotated[UserRepository, Depends(get_user_repository)],
    audit: Annotated[AuditLog, Depends(get_audit_log)],
    logger: Annotated[FilteringBoundLogger, Depends(get_logger)],
    passwords: PasswordHasherDep,
) -> UserService:
    return UserService(users, audit, logger, passwords)


UserRepositoryDep = Annotated[UserRepository, Depends(get_user_repository)]


def get_product_repository(session: SessionDep) -> ProductRepository:
    """The tenant's products, read from its database."""
    return SqlAlchemyProductRepository(session)


ProductRepositoryDep = Annotated[ProductRepository, Depends(get_product_repository)]
UserServiceDep = Annotated[UserService, Depends(get_user_service)]


def get_image_store(request: Request) -> ImageStore:
    return request.state.images


ImageStoreDep = Annotated[ImageStore, Depends(get_image_store)]


def get_profile_images(
    session: SessionDep,
    images: ImageStoreDep,
    tenant: TenantDep,
    logger: Annotated[FilteringBoundLogger, Depends(get_logger)],
) -> ProfileImageService:
    return ProfileImageService(session, images, tenant.id, logger)


ProfileImagesDep = Annotated[ProfileImageService, Depends(get_profile_images)]


WelcomeQueue = Callable[[str, int], str]


def queue_welcome_email(tenant_id: str, user_id: int) -> str:
    """Put the welcome email on the broker for a worker to send; answers the task id.

    Only ids travel: JSON-friendly, and the worker reads the user as it is then.
    """
    return send_welcome_email.delay(tenant_id, user_id).id


def get_welcome_queue() -> WelcomeQueue:
    return queue_welcome_email


WelcomeQueueDep = Annotated[WelcomeQueue, Depends(get_welcome_queue)]

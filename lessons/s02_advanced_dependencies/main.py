"""Stage 02: tenants, a rate limit, an access check chain, and a repository port.

Serve it with `make serve LESSON=02` and open http://127.0.0.1:8000/docs.
Every /users route needs an X-Tenant-ID header (acme or globex); deleting a
user also needs an X-API-Key (acme-admin-key, say).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request, status
from fastapi.responses import JSONResponse

from .access import RequirePermission
from .catalogue import CATALOGUE, Product
from .database import create_db_engine
from .dependencies import UserServiceDep
from .exercises import rate_limit_usage, users_by_domain
from .logging_config import configure_logging
from .principals import demo_principals
from .rate_limiting import rate_limiter
from .redis_client import create_redis
from .repositories import EmailAlreadyRegistered
from .schemas import StorableText, UserCreate, UserOut
from .services import UserNotFound
from .settings import get_settings
from .tenancy import open_tenants, schema_for


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    # Application scope: built once when the app starts, released when it stops.
    settings = get_settings()
    configure_logging()
    schemas = [schema_for(tenant_id) for tenant_id in settings.tenants]
    engine = create_db_engine(settings.database_url, schemas=schemas, echo=settings.sql_echo)
    redis = create_redis(settings.redis_url)
    # What the lifespan yields is copied into every request's `request.state`.
    yield {
        "tenants": open_tenants(engine, settings.tenants),
        "principals": demo_principals(settings.tenants),
        "redis": redis,
    }
    await redis.aclose()
    engine.dispose()


app = FastAPI(
    title="Storefront API",
    version="stage 02",
    summary="Advanced dependencies: tenants, rate limits, access checks and repositories.",
    lifespan=lifespan,
)


@app.exception_handler(UserNotFound)
async def user_not_found(request: Request, error: UserNotFound) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=status.HTTP_404_NOT_FOUND)


@app.exception_handler(EmailAlreadyRegistered)
async def email_taken(request: Request, error: EmailAlreadyRegistered) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=status.HTTP_409_CONFLICT)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "stage": "02"}


@app.get("/products")
def list_products() -> list[Product]:
    return list(CATALOGUE.values())


# Plain `def`, not `async def`: the session does blocking I/O, so FastAPI runs
# these in its thread pool and the event loop stays free (stage 05 measures it).
# Each user route counts against the caller's rate limit: `rate_limiter` runs
# for its side effect, and as it needs the tenant, no user route runs without a
# valid X-Tenant-ID either.
@app.post("/users", status_code=status.HTTP_201_CREATED, dependencies=[Depends(rate_limiter)])
def register_user(body: UserCreate, users: UserServiceDep) -> UserOut:
    return users.register(body.email, body.name)


@app.get("/users/{email}", dependencies=[Depends(rate_limiter)])
def get_user(email: StorableText, users: UserServiceDep) -> UserOut:
    return users.get_by_email(email)


# The check chain comes after the rate limit, so guessing keys costs requests too.
@app.delete(
    "/users/{email}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(rate_limiter), Depends(RequirePermission("users:delete"))],
)
def delete_user(email: StorableText, users: UserServiceDep) -> None:
    users.delete(email)


# Your exercise routes. Until you write them, calling them answers 500 (NotImplementedError).
app.include_router(rate_limit_usage.router)
app.include_router(users_by_domain.router)

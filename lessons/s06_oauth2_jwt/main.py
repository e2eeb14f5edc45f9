"""Stage 06: OAuth2 password flow with JWT access and refresh tokens.

Serve it with `make serve LESSON=06` and open /docs. Click Authorize and log in
as admin@acme.example (password: storefront-demo-admin, client_id: acme): one
demo admin per tenant, made at start-up (demo_admins.py; refused in
production). Every /users route still needs an X-Tenant-ID header (acme or
globex). Registering queues the welcome email as in stage 04; the slow and
fast routes of stage 05 are still under /lab.
"""

import multiprocessing
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import structlog
from anyio import to_thread
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse

from . import auth_routes, lab
from .analytics import event_counts, record_event
from .async_database import async_tenant_sessions, create_async_db_engine, shareable_url
from .authentication import CurrentUserDep, get_current_user, require_admin
from .catalogue import CATALOGUE, Product
from .database import create_db_engine
from .demo_admins import seed_demo_admins
from .dependencies import (
    ImageStoreDep,
    ProfileImagesDep,
    RedisDep,
    SettingsDep,
    TenantDep,
    UserServiceDep,
    WelcomeQueueDep,
)
from .exercises import logout_everywhere, token_info
from .jobs import JobsDep
from .logging_config import configure_logging
from .media import ImageStore
from .passwords import PasswordHasher
from .profile_images import ProfileImageNotFound, ThumbnailNotFound
from .rate_limiting import rate_limiter
from .redis_client import create_redis
from .repositories import EmailAlreadyRegistered
from .revocation import TokenRevocation
from .schemas import PasswordChange, ProfileImageOut, Registration, TaskStatus, UserCreate, UserOut
from .services import UserNotFound, WrongPassword
from .settings import get_settings
from .signing_keys import signing_key
from .slow_query import install_pg_sleep
from .tenancy import open_tenants, schema_for
from .thumbnails import NotAnImage, inspect_image, make_thumbnails
from .tokens import TokenService
from .uploads import UPLOAD_REQUEST_BODY, UploadDep
from .worker import celery_app


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    # Application scope: built once when the app starts, released when it stops.
    settings = get_settings()
    configure_logging()
    # First, because it may refuse to start: better now than on the first log-in.
    key, is_development_key = signing_key(settings)
    if is_development_key:
        structlog.get_logger().warning(
            "jwt.development_key",
            detail="tokens are signed with the public development key; set WORKBOOK_JWT_SECRET_KEY",
        )
    # FastAPI runs `def` routes and dependencies in anyio's thread pool. Its limit
    # belongs to the event loop, so it is set here, on the loop that serves requests.
    to_thread.current_default_thread_limiter().total_tokens = settings.thread_limit
    # Each resource registers its clean-up as soon as it is made: when the app stops
    # (or a later resource fails to start) they run in reverse order.
    async with AsyncExitStack() as cleanup:
        # The embedded default's in-memory database becomes a file in this folder,
        # so that the async engine can open it too (see async_database.py).
        scratch = Path(cleanup.enter_context(TemporaryDirectory(prefix="storefront-db-")))
        url = shareable_url(settings.database_url, scratch)
        schemas = {tenant_id: schema_for(tenant_id) for tenant_id in settings.tenants}
        engine = create_db_engine(url, schemas=schemas.values(), echo=settings.sql_echo)
        cleanup.callback(engine.dispose)
        install_pg_sleep(engine)
        # The same database through an async driver, for `async def` routes. A real app
        # would usually pick one of the two; this stage keeps both to compare them.
        async_engine = create_async_db_engine(url, schemas=schemas.values(), echo=settings.sql_echo)
        cleanup.push_async_callback(async_engine.dispose)
        install_pg_sleep(async_engine.sync_engine)  # pool events go on the sync engine inside
        redis = create_redis(settings.redis_url)
        cleanup.push_async_callback(redis.aclose)
        media_dir = settings.media_dir
        if media_dir is None:
            # The embedded default, like the in-memory database: a fresh, empty folder
            # for this run, removed (with everything in it) when the app stops.
            media_dir = Path(cleanup.enter_context(TemporaryDirectory(prefix="storefront-media-")))
        # Worker processes for CPU-bound work, started on first use. "spawn" starts each
        # from a fresh interpreter: forking this process, which runs threads, could
        # copy a lock that some other thread holds, and the child would hang on it.
        process_pool = ProcessPoolExecutor(
            settings.process_pool_workers, mp_context=multiprocessing.get_context("spawn")
        )
        cleanup.callback(process_pool.shutdown, cancel_futures=True)
        tenants = open_tenants(engine, settings.tenants)
        passwords = PasswordHasher(settings.bcrypt_rounds)
        seed_demo_admins(tenants, passwords, settings)
        tokens = TokenService(
            key,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            access_lifetime=timedelta(minutes=settings.access_token_minutes),
            refresh_lifetime=timedelta(days=settings.refresh_token_days),
        )
        # What the lifespan yields is copied into every request's `request.state`.
        yield {
            "tenants": tenants,
            "async_sessions": async_tenant_sessions(async_engine, schemas),
            "process_pool": process_pool,
            "redis": redis,
            "passwords": passwords,
            "tokens": tokens,
            "revocation": TokenRevocation(redis),
            "images": ImageStore(media_dir),
        }


app = FastAPI(
    title="Storefront API",
    version="stage 06",
    summary="OAuth2 and JWT: log in, refresh with rotation, log out, and tokens that can be taken back.",
    lifespan=lifespan,
)


@app.exception_handler(UserNotFound)
@app.exception_handler(ProfileImageNotFound)
@app.exception_handler(ThumbnailNotFound)
async def not_found(request: Request, error: LookupError) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=status.HTTP_404_NOT_FOUND)


@app.exception_handler(EmailAlreadyRegistered)
async def email_taken(request: Request, error: EmailAlreadyRegistered) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=status.HTTP_409_CONFLICT)


@app.exception_handler(RequestValidationError)
async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    # FastAPI's own answer, except that it never echoes a password back: a 422
    # body ends up in logs and browser consoles.
    errors = [
        {key: value for key, value in item.items() if key not in ("input", "ctx")}
        if "password" in str(item["loc"][-1])
        else item
        for item in error.errors()
    ]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "stage": "06"}


@app.get("/products")
def list_products() -> list[Product]:
    return list(CATALOGUE.values())


app.include_router(auth_routes.router)


# Plain `def`, not `async def`: the session does blocking I/O, so FastAPI runs
# these in its thread pool and the event loop stays free (stage 05 measures it).
# Each user route counts against the caller's rate limit: `rate_limiter` runs
# for its side effect, and as it needs the tenant, no user route runs without a
# valid X-Tenant-ID either.
@app.post("/users/register", status_code=status.HTTP_201_CREATED, dependencies=[Depends(rate_limiter)])
def register_user(body: UserCreate, tenant: TenantDep, users: UserServiceDep, queue: WelcomeQueueDep) -> Registration:
    # register() has committed: a worker that picks the task up at once finds the
    # user. Queue before the commit and it could look for a row that is not there yet.
    user = users.register(body.email, body.name, body.password)
    # If the broker is unreachable this raises and the request answers 500 with the
    # user saved but no email queued; an "outbox" table written in the same
    # transaction and relayed to the broker closes that gap (not built here).
    task_id = queue(tenant.id, user.id)
    return Registration(user=UserOut.model_validate(user), task_id=task_id)


@app.get("/users/me", dependencies=[Depends(rate_limiter)])
def read_me(user: CurrentUserDep) -> UserOut:
    return user


@app.post("/users/me/password", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(rate_limiter)])
def change_password(body: PasswordChange, user: CurrentUserDep, users: UserServiceDep) -> None:
    try:
        users.change_password(user, body.current_password, body.new_password)
    except WrongPassword as error:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(error)) from error


# A user is addressed by id (since stage 03): an email can change, and does
# not belong in URLs (and so in access logs).
# Any user of the tenant, once logged in; stage 07 narrows who may read whom.
@app.get("/users/{user_id}", dependencies=[Depends(rate_limiter), Depends(get_current_user)])
def get_user(user_id: int, users: UserServiceDep) -> UserOut:
    return users.get(user_id)


# The rate limit runs first, so guessing tokens costs requests too. DELETE
# /users/{user_id} is the older path (an API key guarded it until stage 05);
# it stays for the clients that use it, guarded like the new one.
may_delete_users = [Depends(rate_limiter), Depends(require_admin)]


@app.delete("/admin/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=may_delete_users)
@app.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=may_delete_users, deprecated=True)
def delete_user(user_id: int, users: UserServiceDep, images: ImageStoreDep, tenant: TenantDep, jobs: JobsDep) -> None:
    users.delete(user_id)  # the profile image's row goes with the user, in the same commit
    jobs.add(images.remove, tenant.id, user_id)  # the files can wait until after the answer


@app.post(
    "/users/{user_id}/profile-image",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(rate_limiter)],
    responses={413: {"description": "File too large"}, 415: {"description": "Not an image"}},
    openapi_extra=UPLOAD_REQUEST_BODY,  # the route reads its body itself (uploads.py)
)
def upload_profile_image(
    user_id: int,
    caller: CurrentUserDep,
    data: UploadDep,
    users: UserServiceDep,
    profile_images: ProfileImagesDep,
    tenant: TenantDep,
    redis: RedisDep,
    settings: SettingsDep,
    jobs: JobsDep,
) -> ProfileImageOut:
    """Store the image and answer 202 Accepted: the thumbnails are made after the response."""
    if caller.id != user_id and not caller.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "You may only change your own profile image")
    user = users.get(user_id)
    # Every check happens before anything is stored; the filename and the
    # Content-Type the client sent are not consulted: only the bytes decide.
    try:
        info = inspect_image(data, max(settings.thumbnail_sizes))
    except NotAnImage as error:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(error)) from None
    profile_images.replace(user, data, info)
    # Run in this order once the response is sent. Thumbnails first: if that job
    # raises, the analytics job after it is skipped.
    jobs.add(make_thumbnails, profile_images.images, tenant.id, user.id, settings.thumbnail_sizes)
    jobs.add(record_event, redis, tenant.id, "profile_image.uploaded")
    return ProfileImageOut(user_id=user.id, format=info.format, width=info.width, height=info.height, thumbnails=[])


@app.get("/users/{user_id}/profile-image", dependencies=[Depends(rate_limiter)])
def get_profile_image(user_id: int, profile_images: ProfileImagesDep) -> ProfileImageOut:
    image = profile_images.get(user_id)
    return ProfileImageOut(
        user_id=user_id,
        format=image.format,
        width=image.width,
        height=image.height,
        thumbnails=profile_images.thumbnail_sizes(user_id),
    )


@app.get(
    "/users/{user_id}/profile-image/{size}",
    dependencies=[Depends(rate_limiter)],
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}}},
)
def get_thumbnail(
    user_id: int, size: int, profile_images: ProfileImagesDep, tenant: TenantDep, redis: RedisDep, jobs: JobsDep
) -> FileResponse:
    profile_images.get(user_id)
    if size not in profile_images.thumbnail_sizes(user_id):
        raise ThumbnailNotFound(
            f"User {user_id} has no {size} px thumbnail (yet); see GET /users/{user_id}/profile-image"
        )
    jobs.add(record_event, redis, tenant.id, "profile_image.viewed")
    return FileResponse(profile_images.images.thumbnail(tenant.id, user_id, size), media_type="image/png")


@app.get("/analytics")
async def analytics(tenant: TenantDep, redis: RedisDep) -> dict[str, int]:
    """The tenant's usage counters, written by background tasks."""
    return await event_counts(redis, tenant.id)


@app.get("/tasks/{task_id}")
def task_status(task_id: str) -> TaskStatus:
    """The task's state as the result backend knows it.

    An id the backend has never heard of is PENDING too: Celery cannot tell
    "queued, not started yet" from "no such task", because nothing is stored
    until a worker reports. (STARTED is reported only because the app sets
    task_track_started.)
    """
    result = celery_app.AsyncResult(task_id)
    state = result.state
    answer = TaskStatus(task_id=task_id, state=state)
    if state == "PENDING":
        return answer
    answer.retries = result.retries
    if state == "SUCCESS":
        answer.result = result.result
    elif state in ("RETRY", "FAILURE"):
        answer.error = repr(result.info)  # the exception the task raised or is retrying on
    return answer


# The measurements' routes, kept apart from the shop's under /lab.
app.include_router(lab.router)

# Your exercise routes. Until you write them, calling them answers 500 (NotImplementedError).
app.include_router(token_info.router)
app.include_router(logout_everywhere.router)

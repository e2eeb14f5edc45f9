"""Stage 03: background tasks, after the response.

Serve it with `make serve LESSON=03` and open http://127.0.0.1:8000/docs.
Every /users route needs an X-Tenant-ID header (acme or globex). Upload a
profile image for user 1 with POST /users/1/profile-image: the answer (202)
comes at once, and the thumbnails appear at GET /users/1/profile-image a moment later.
"""

from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import FileResponse, JSONResponse

from .access import RequirePermission
from .analytics import event_counts, record_event
from .catalogue import CATALOGUE, Product
from .database import create_db_engine
from .dependencies import ImageStoreDep, ProfileImagesDep, RedisDep, SettingsDep, TenantDep, UserServiceDep
from .exercises import delete_profile_image, square_thumbnail
from .jobs import JobsDep
from .logging_config import configure_logging
from .media import ImageStore
from .principals import demo_principals
from .profile_images import ProfileImageNotFound, ThumbnailNotFound
from .rate_limiting import rate_limiter
from .redis_client import create_redis
from .repositories import EmailAlreadyRegistered
from .schemas import ProfileImageOut, UserCreate, UserOut
from .services import UserNotFound
from .settings import get_settings
from .tenancy import open_tenants, schema_for
from .thumbnails import NotAnImage, inspect_image, make_thumbnails
from .uploads import UPLOAD_REQUEST_BODY, UploadDep


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    # Application scope: built once when the app starts, released when it stops.
    settings = get_settings()
    configure_logging()
    schemas = [schema_for(tenant_id) for tenant_id in settings.tenants]
    engine = create_db_engine(settings.database_url, schemas=schemas, echo=settings.sql_echo)
    redis = create_redis(settings.redis_url)
    with ExitStack() as cleanup:
        media_dir = settings.media_dir
        if media_dir is None:
            # The embedded default, like the in-memory database: a fresh, empty folder
            # for this run, removed (with everything in it) when the app stops.
            media_dir = Path(cleanup.enter_context(TemporaryDirectory(prefix="storefront-media-")))
        # What the lifespan yields is copied into every request's `request.state`.
        yield {
            "tenants": open_tenants(engine, settings.tenants),
            "principals": demo_principals(settings.tenants),
            "redis": redis,
            "images": ImageStore(media_dir),
        }
    await redis.aclose()
    engine.dispose()


app = FastAPI(
    title="Storefront API",
    version="stage 03",
    summary="Background tasks: thumbnails and analytics after the response.",
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


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "stage": "03"}


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


# From this stage on a user is addressed by id: an email can change, and does
# not belong in URLs (and so in access logs).
@app.get("/users/{user_id}", dependencies=[Depends(rate_limiter)])
def get_user(user_id: int, users: UserServiceDep) -> UserOut:
    return users.get(user_id)


# The check chain comes after the rate limit, so guessing keys costs requests too.
@app.delete(
    "/users/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(rate_limiter), Depends(RequirePermission("users:delete"))],
)
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
    data: UploadDep,
    users: UserServiceDep,
    profile_images: ProfileImagesDep,
    tenant: TenantDep,
    redis: RedisDep,
    settings: SettingsDep,
    jobs: JobsDep,
) -> ProfileImageOut:
    """Store the image and answer 202 Accepted: the thumbnails are made after the response."""
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


# Your exercise routes. Until you write them, calling them answers 500 (NotImplementedError).
app.include_router(delete_profile_image.router)
app.include_router(square_thumbnail.router)

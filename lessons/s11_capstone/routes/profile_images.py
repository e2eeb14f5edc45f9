"""The profile-image routes: upload one (202, thumbnails made after the answer), read it, fetch a thumbnail."""

from fastapi import APIRouter, Depends, HTTPException, Security, status
from fastapi.responses import FileResponse

from ..analytics import record_event
from ..dependencies import ProfileImagesDep, RedisDep, SettingsDep, TenantDep, UserServiceDep
from ..jobs import JobsDep
from ..path_params import ThumbnailSize, UserId
from ..permissions import can_edit_user
from ..profile_images import ThumbnailNotFound
from ..rate_limiting import rate_limiter
from ..schemas import ProfileImageOut
from ..thumbnails import NotAnImage, inspect_image, make_thumbnails
from ..uploads import UPLOAD_REQUEST_BODY, UploadDep

router = APIRouter(tags=["profile images"], dependencies=[Depends(rate_limiter)])


@router.post(
    "/users/{user_id}/profile-image",
    status_code=status.HTTP_202_ACCEPTED,
    # Your own image, or anyone's with the users:write scope and the users:edit permission.
    dependencies=[Security(can_edit_user, scopes=["me"])],
    responses={413: {"description": "File too large"}, 415: {"description": "Not an image"}},
    openapi_extra=UPLOAD_REQUEST_BODY,  # the route reads its body itself (uploads.py)
)
def upload_profile_image(
    user_id: UserId,
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


@router.get("/users/{user_id}/profile-image")
def get_profile_image(user_id: UserId, profile_images: ProfileImagesDep) -> ProfileImageOut:
    image = profile_images.get(user_id)
    return ProfileImageOut(
        user_id=user_id,
        format=image.format,
        width=image.width,
        height=image.height,
        thumbnails=profile_images.thumbnail_sizes(user_id),
    )


@router.get(
    "/users/{user_id}/profile-image/{size}",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}}},
)
def get_thumbnail(
    user_id: UserId,
    size: ThumbnailSize,
    profile_images: ProfileImagesDep,
    tenant: TenantDep,
    redis: RedisDep,
    jobs: JobsDep,
) -> FileResponse:
    profile_images.get(user_id)
    if size not in profile_images.thumbnail_sizes(user_id):
        raise ThumbnailNotFound(
            f"User {user_id} has no {size} px thumbnail (yet); see GET /users/{user_id}/profile-image"
        )
    jobs.add(record_event, redis, tenant.id, "profile_image.viewed")
    return FileResponse(profile_images.images.thumbnail(tenant.id, user_id, size), media_type="image/png")

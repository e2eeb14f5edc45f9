"""Exercise 03/square_thumbnail: a square avatar, made after the answer.

`POST /users/{user_id}/profile-image/square` (with an X-Tenant-ID header) answers
202 with `{"user_id": 1, "size": 128}` at once, and schedules, through `jobs`,

    make_square_thumbnail(images, tenant_id, user_id, SQUARE_SIZE)

which runs after the response. It reads the user's original
(`images.original(tenant_id, user_id)`), cuts the largest square out of its
CENTRE (a 300 x 100 banner keeps its middle 100 x 100), scales that to
`size` x `size` pixels and saves it as PNG at `square_path(...)`.

- `make_square_thumbnail` must be a plain `def`: Pillow's work is CPU-bound and
  blocking, so it belongs in the thread pool, not on the event loop.
- A user without a profile image (or an unknown user) answers 404 and schedules nothing.
"""

from pathlib import Path

from fastapi import APIRouter, Depends, status
from PIL import Image
from pydantic import BaseModel

from ..dependencies import ProfileImagesDep, TenantDep
from ..jobs import JobsDep
from ..media import ImageStore
from ..path_params import UserId
from ..rate_limiting import rate_limiter

SQUARE_SIZE = 128
# The high-quality filter make_thumbnails uses too.
RESAMPLING = Image.Resampling.LANCZOS

router = APIRouter(tags=["exercises"])


class SquareThumbnailAccepted(BaseModel):
    user_id: int
    size: int


def square_path(images: ImageStore, tenant_id: str, user_id: int, size: int) -> Path:
    return images.user_dir(tenant_id, user_id) / f"square-{size}.png"


def make_square_thumbnail(images: ImageStore, tenant_id: str, user_id: int, size: int) -> None:
    # BEGIN SOLUTION
    with Image.open(images.original(tenant_id, user_id)) as original:
        side = min(original.size)
        left = (original.width - side) // 2
        top = (original.height - side) // 2
        square = original.crop((left, top, left + side, top + side)).resize((size, size), RESAMPLING)
        square.save(square_path(images, tenant_id, user_id, size), format="PNG")
    # END SOLUTION


@router.post(
    "/users/{user_id}/profile-image/square",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(rate_limiter)],
)
def request_square_thumbnail(
    user_id: UserId, profile_images: ProfileImagesDep, tenant: TenantDep, jobs: JobsDep
) -> SquareThumbnailAccepted:
    # BEGIN SOLUTION
    profile_images.get(user_id)  # raises ProfileImageNotFound: 404, before anything is scheduled
    jobs.add(make_square_thumbnail, profile_images.images, tenant.id, user_id, SQUARE_SIZE)
    return SquareThumbnailAccepted(user_id=user_id, size=SQUARE_SIZE)
    # END SOLUTION

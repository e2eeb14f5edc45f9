"""Exercise 03/delete_profile_image: remove a profile image, files after the answer.

`DELETE /users/{user_id}/profile-image` (with an X-Tenant-ID header):

- the image's row is deleted and committed BEFORE the answer, so a GET straight
  after it answers 404;
- the answer is 204 No Content;
- the files (the original and every thumbnail) are removed AFTER the answer, by
  a job scheduled through `jobs` (never by BackgroundTasks directly: tests swap
  `get_jobs` for a recorder and check exactly what you scheduled);
- a user without a profile image (or an unknown user) answers 404 and schedules nothing.

`profile_images` (a ProfileImageService) finds the row and holds the session;
`profile_images.images` is the ImageStore, whose `remove(tenant_id, user_id)`
deletes the user's files.
"""

from fastapi import APIRouter, Depends, status

from ..dependencies import ProfileImagesDep, TenantDep
from ..jobs import JobsDep
from ..path_params import UserId
from ..rate_limiting import rate_limiter

router = APIRouter(tags=["exercises"])


@router.delete(
    "/users/{user_id}/profile-image", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(rate_limiter)]
)
def delete_profile_image(user_id: UserId, profile_images: ProfileImagesDep, tenant: TenantDep, jobs: JobsDep) -> None:
    # BEGIN SOLUTION
    image = profile_images.get(user_id)  # raises ProfileImageNotFound: 404
    profile_images.session.delete(image)
    profile_images.session.commit()
    jobs.add(profile_images.images.remove, tenant.id, user_id)
    # END SOLUTION

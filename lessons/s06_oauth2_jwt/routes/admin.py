"""The admin routes: what only an administrator of the tenant may do."""

from fastapi import APIRouter, Depends, status

from ..authentication import require_admin
from ..dependencies import ImageStoreDep, TenantDep, UserServiceDep
from ..jobs import JobsDep
from ..path_params import UserId
from ..rate_limiting import rate_limiter

# The rate limit runs first, so guessing tokens costs requests too.
router = APIRouter(tags=["admin"], dependencies=[Depends(rate_limiter), Depends(require_admin)])


# DELETE /users/{user_id} is the older path of the same route, kept for the
# clients that use it and guarded like the new one.
@router.delete("/admin/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
@router.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT, deprecated=True)
def delete_user(
    user_id: UserId, users: UserServiceDep, images: ImageStoreDep, tenant: TenantDep, jobs: JobsDep
) -> None:
    users.delete(user_id)  # the profile image's row goes with the user, in the same commit
    jobs.add(images.remove, tenant.id, user_id)  # the files can wait until after the answer

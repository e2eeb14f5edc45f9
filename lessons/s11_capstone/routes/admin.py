"""The admin routes: what only a role with the right permission may do, with the admin scope.

The token must carry the admin scope (403 otherwise) AND the caller's role must
hold the route's permission (403 otherwise).
"""

from fastapi import APIRouter, Depends, Security, status

from ..dependencies import ImageStoreDep, TenantDep, UserServiceDep
from ..jobs import JobsDep
from ..path_params import UserId
from ..permissions import PermissionChecker
from ..rate_limiting import rate_limiter
from ..schemas import RoleChange, UserOut

# The rate limit runs first, so guessing tokens costs requests too.
router = APIRouter(tags=["admin"], dependencies=[Depends(rate_limiter)])

may_delete_users = [Security(PermissionChecker("users:delete"), scopes=["admin"])]


# DELETE /users/{user_id} is the older path of the same route, kept for the
# clients that use it and guarded like the new one.
@router.delete("/admin/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=may_delete_users)
@router.delete(
    "/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=may_delete_users, deprecated=True
)
def delete_user(
    user_id: UserId, users: UserServiceDep, images: ImageStoreDep, tenant: TenantDep, jobs: JobsDep
) -> None:
    users.delete(user_id)  # the profile image's row goes with the user, in the same commit
    jobs.add(images.remove, tenant.id, user_id)  # the files can wait until after the answer


@router.put(
    "/admin/users/{user_id}/role",
    dependencies=[Security(PermissionChecker("roles:assign"), scopes=["admin"])],
)
def change_role(user_id: UserId, body: RoleChange, users: UserServiceDep) -> UserOut:
    return UserOut.model_validate(users.change_role(user_id, body.role))

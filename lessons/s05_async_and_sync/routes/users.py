"""The /users routes: register a user (which queues a welcome email), look one up, delete one.

Each counts against the caller's rate limit: `rate_limiter` runs for its side
effect, and as it needs the tenant, no user route runs without a valid
X-Tenant-ID either.
"""

from fastapi import APIRouter, Depends, status

from ..access import RequirePermission
from ..dependencies import ImageStoreDep, TenantDep, UserServiceDep, WelcomeQueueDep
from ..jobs import JobsDep
from ..path_params import UserId
from ..rate_limiting import rate_limiter
from ..schemas import Registration, UserCreate, UserOut

router = APIRouter(tags=["users"], dependencies=[Depends(rate_limiter)])


# Plain `def`, not `async def`: the session does blocking I/O, so FastAPI runs
# these in its thread pool and the event loop stays free. The services answer ORM
# rows; each route copies the row into UserOut itself, so only the schema's fields
# can ever go out, and the return type is what the route really returns.
@router.post("/users/register", status_code=status.HTTP_201_CREATED)
def register_user(body: UserCreate, tenant: TenantDep, users: UserServiceDep, queue: WelcomeQueueDep) -> Registration:
    # register() has committed: a worker that picks the task up at once finds the
    # user. Queue before the commit and it could look for a row that is not there yet.
    user = users.register(body.email, body.name)
    # The fast path. If the broker is unreachable this raises and the request answers
    # 500, but the email is not lost: register() saved it in the outbox with the
    # user, and the outbox relay queues it later (outbox.py).
    task_id = queue(tenant.id, user.id)
    return Registration(user=UserOut.model_validate(user), task_id=task_id)


# A user is addressed by id: an email can change, and does not belong in URLs
# (and so in access logs).
@router.get("/users/{user_id}")
def get_user(user_id: UserId, users: UserServiceDep) -> UserOut:
    return UserOut.model_validate(users.get(user_id))


# The check chain comes after the rate limit, so guessing keys costs requests too.
@router.delete(
    "/users/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(RequirePermission("users:delete"))],
)
def delete_user(
    user_id: UserId, users: UserServiceDep, images: ImageStoreDep, tenant: TenantDep, jobs: JobsDep
) -> None:
    users.delete(user_id)  # the profile image's row goes with the user, in the same commit
    jobs.add(images.remove, tenant.id, user_id)  # the files can wait until after the answer

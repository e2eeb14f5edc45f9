"""The /users routes: register a user, look one up, delete one.

Each counts against the caller's rate limit: `rate_limiter` runs for its side
effect, and as it needs the tenant, no user route runs without a valid
X-Tenant-ID either.
"""

from fastapi import APIRouter, Depends, status

from ..access import RequirePermission
from ..dependencies import UserServiceDep
from ..rate_limiting import rate_limiter
from ..schemas import StorableText, UserCreate, UserOut

router = APIRouter(tags=["users"], dependencies=[Depends(rate_limiter)])


# Plain `def`, not `async def`: the session does blocking I/O, so FastAPI runs
# these in its thread pool and the event loop stays free. The services answer ORM
# rows; each route copies the row into UserOut itself, so only the schema's fields
# can ever go out, and the return type is what the route really returns.
@router.post("/users", status_code=status.HTTP_201_CREATED)
def register_user(body: UserCreate, users: UserServiceDep) -> UserOut:
    return UserOut.model_validate(users.register(body.email, body.name))


@router.get("/users/{email}")
def get_user(email: StorableText, users: UserServiceDep) -> UserOut:
    return UserOut.model_validate(users.get_by_email(email))


# The check chain comes after the rate limit, so guessing keys costs requests too.
@router.delete(
    "/users/{email}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(RequirePermission("users:delete"))],
)
def delete_user(email: StorableText, users: UserServiceDep) -> None:
    users.delete(email)

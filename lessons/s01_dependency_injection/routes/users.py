"""The /users routes: register a user, look one up."""

from fastapi import APIRouter, status

from ..dependencies import UserServiceDep
from ..schemas import StorableText, UserCreate, UserOut

router = APIRouter(tags=["users"])


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

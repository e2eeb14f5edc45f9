"""The /users routes: register (which queues a welcome email or a notice), your own account, read and edit a user.

Each counts against the caller's rate limit: `rate_limiter` runs for its side
effect, and as it needs the tenant, no user route runs without a valid
X-Tenant-ID either.
"""

from fastapi import APIRouter, Depends, HTTPException, Security, status

from ..authentication import MeDep
from ..dependencies import TenantDep, UserServiceDep, WelcomeQueueDep
from ..path_params import UserId
from ..permissions import OwnerOrPermission, can_edit_user
from ..rate_limiting import rate_limiter
from ..registration_notices import NoticeQueueDep
from ..schemas import PasswordChange, ProfileUpdate, RegistrationReceived, UserCreate, UserOut
from ..services import WrongPassword

router = APIRouter(tags=["users"], dependencies=[Depends(rate_limiter)])


# Plain `def`, not `async def`: the session does blocking I/O, so FastAPI runs
# these in its thread pool and the event loop stays free. The services answer ORM
# rows; each route copies the row into UserOut itself, so only the schema's fields
# can ever go out, and the return type is what the route really returns.
@router.post("/users/register", status_code=status.HTTP_202_ACCEPTED)
def register_user(
    body: UserCreate, tenant: TenantDep, users: UserServiceDep, welcome: WelcomeQueueDep, notices: NoticeQueueDep
) -> RegistrationReceived:
    """The same answer whether or not the email has an account, so it cannot tell anyone who does.

    Only the inbox learns which: a new account's owner gets the welcome email with the
    code that confirms it (email_confirmation.py), an existing account's owner a notice.
    """
    sign_up = users.register(body.email, body.name, body.password)
    # register() has committed: a worker that picks the task up at once finds the
    # user. Queue before the commit and it could look for a row that is not there yet.
    # If the broker is unreachable this raises and the request answers 500 (for a new
    # email and a known one alike); the welcome email is not lost: register() saved
    # it in the outbox with the user, and the outbox relay queues it later (outbox.py).
    if sign_up.created is not None:
        welcome(tenant.id, sign_up.created.id)
    elif sign_up.existing is not None:
        notices(tenant.id, sign_up.existing.id)
    return RegistrationReceived()


# Declared before /users/{user_id}, or "me" would be read as an id (and refused as not a number).
@router.get("/users/me")
def read_me(user: MeDep) -> UserOut:
    return UserOut.model_validate(user)


@router.post("/users/me/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(body: PasswordChange, user: MeDep, users: UserServiceDep) -> None:
    try:
        users.change_password(user, body.current_password, body.new_password)
    except WrongPassword as error:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(error)) from error


# A user is addressed by id: an email can change, and does not belong in URLs
# (and so in access logs).
# Ownership: yourself with the "me" scope; anyone else needs the users:read
# scope AND a role that holds users:read. The 404 comes last, so a caller who
# may not read others cannot probe which ids exist.
@router.get(
    "/users/{user_id}",
    dependencies=[Security(OwnerOrPermission("users:read", scope="users:read"), scopes=["me"])],
)
def get_user(user_id: UserId, users: UserServiceDep) -> UserOut:
    return UserOut.model_validate(users.get(user_id))


@router.patch("/users/{user_id}", dependencies=[Security(can_edit_user, scopes=["me"])])
def update_user(user_id: UserId, body: ProfileUpdate, users: UserServiceDep) -> UserOut:
    return UserOut.model_validate(users.update_profile(users.get(user_id), name=body.name))

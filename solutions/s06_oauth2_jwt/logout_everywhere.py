"""Exercise 06/logout_everywhere: log out of every device at once.

`POST /logout/everywhere` (with an X-Tenant-ID header and a bearer access
token) makes EVERY token the caller holds stop working: this one, the refresh
token that came with it, and the tokens of every other log-in (the phone, the
laptop...). It answers 204. Logging in again afterwards works as usual.

You do not need to find those tokens, and there is no list of them to find:
each token carries the user's token version (`ver`), and get_current_user
refuses a token whose version is not the user's current one. Bump it, and
commit. POST /token/refresh checks the version too.
"""

from fastapi import APIRouter, status

from ..authentication import CurrentUserDep
from ..dependencies import UserRepositoryDep

router = APIRouter(tags=["exercises"])


@router.post("/logout/everywhere", status_code=status.HTTP_204_NO_CONTENT)
def logout_everywhere(user: CurrentUserDep, users: UserRepositoryDep) -> None:
    # BEGIN SOLUTION
    user.token_version += 1
    users.commit()
    # END SOLUTION

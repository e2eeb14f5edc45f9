"""Exercise 02/users_by_domain: the tenant's users at one email domain.

`GET /users?domain=example.com` answers the users of the request's tenant whose
email ends with "@example.com", in id (registration) order. Letter case does not
matter in a domain: "Example.COM" finds the same users. No match answers [].

Write it against the UserRepository port only (`users.list_all()`), never the
session: then the same code works on whichever adapter the app is given, and
the tests run it on both the SQLAlchemy one and the in-memory one.
"""

from typing import Annotated

from fastapi import APIRouter, Query

from ..dependencies import UserRepositoryDep
from ..schemas import UserOut

router = APIRouter(tags=["exercises"])


@router.get("/users")
def users_by_domain(
    domain: Annotated[str, Query(min_length=1, max_length=255, examples=["example.com"])],
    users: UserRepositoryDep,
) -> list[UserOut]:
    # BEGIN SOLUTION
    suffix = f"@{domain.lower()}"
    return [UserOut.model_validate(user) for user in users.list_all() if user.email.lower().endswith(suffix)]
    # END SOLUTION

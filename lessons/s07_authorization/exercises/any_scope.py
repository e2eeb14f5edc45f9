"""Exercise 07/any_scope: a dependency that asks for ONE of several scopes.

`Security(get_current_user, scopes=[...])` demands EVERY scope listed. Some
routes are happy with any one of a few: the user list below is for staff (their
tokens carry "users:read") and for admins (whose tokens carry "admin"), even a
token an admin asked to carry only "admin".

Write `RequireAnyScope.__call__`: it answers the claims when the token carries
at least one of `self.scopes`, and otherwise raises 403 with

    detail            "The token needs one of the scopes 'users:read admin'"
    WWW-Authenticate  Bearer error="insufficient_scope", scope="users:read admin"

(the scopes in the order given, space-separated). The claims are already
checked (401s happen before your code runs).

`GET /users` then lists the tenant's users, in id order.
"""

from fastapi import APIRouter, Depends, HTTPException, status

from ..authentication import AccessClaimsDep
from ..dependencies import UserRepositoryDep
from ..rate_limiting import rate_limiter
from ..schemas import UserOut
from ..tokens import TokenClaims

router = APIRouter(tags=["exercises"])


class RequireAnyScope:
    def __init__(self, *scopes: str) -> None:
        self.scopes = scopes

    def __call__(self, claims: AccessClaimsDep) -> TokenClaims:
        raise NotImplementedError("exercise 07/any_scope: write this part")


@router.get("/users", dependencies=[Depends(rate_limiter), Depends(RequireAnyScope("users:read", "admin"))])
def list_users(users: UserRepositoryDep) -> list[UserOut]:
    return [UserOut.model_validate(user) for user in users.list_all()]

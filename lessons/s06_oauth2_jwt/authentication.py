"""Who is calling? The bearer token, checked layer by layer; each layer can stop the request with 401.

    oauth2_scheme       is there a bearer token at all?              401 (FastAPI's own)
    get_access_claims   is it a valid ACCESS token of this tenant,
                        not logged out, its family not revoked?      401
    get_current_user    does its user still exist, at the same
                        token version (no password change since)?    401
    RequireScope        does the token carry the scope the route needs?  403

Every 401 carries `WWW-Authenticate: Bearer` (RFC 6750), which tells the client
what kind of credentials to send; a 403 names the missing scope.
"""

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from .dependencies import TenantDep, UserRepositoryDep
from .models import User
from .revocation import TokenRevocation
from .tokens import InvalidToken, TokenClaims, TokenService

# tokenUrl is what the Authorize button of /docs posts the log-in form to.
oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="token",
    scopes={"admin": "Administer the tenant's users"},
    # Swagger UI shows this in its Authorize dialog, where a learner needs it.
    description=(
        "Log in with your email as username; client_id names the tenant (acme or globex), and "
        "client_secret stays empty.\n\n"
        "**Demo admin**: username `admin@acme.example`, password `storefront-demo-admin`, client_id `acme` "
        "(or `admin@globex.example` with client_id `globex`). "
        "WORKBOOK_DEMO_ADMIN_PASSWORD sets another password; WORKBOOK_SEED_DEMO_ADMINS=false removes them."
    ),
)


def get_token_service(request: Request) -> TokenService:
    return request.state.tokens


def get_revocation(request: Request) -> TokenRevocation:
    return request.state.revocation


TokenServiceDep = Annotated[TokenService, Depends(get_token_service)]
RevocationDep = Annotated[TokenRevocation, Depends(get_revocation)]


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )


async def get_access_claims(
    token: Annotated[str, Depends(oauth2_scheme)],
    tenant: TenantDep,
    tokens: TokenServiceDep,
    revocation: RevocationDep,
) -> TokenClaims:
    try:
        claims = tokens.decode(token, expected="access")
    except InvalidToken as error:
        raise unauthorized(str(error)) from error
    if claims.tenant != tenant.id:
        raise unauthorized("The token was issued for another tenant")
    if not await revocation.is_active(claims.tenant, claims.jti, claims.fam):
        raise unauthorized("The token has been revoked")
    return claims


AccessClaimsDep = Annotated[TokenClaims, Depends(get_access_claims)]


def get_current_user(claims: AccessClaimsDep, users: UserRepositoryDep) -> User:
    # A plain `def`: the lookup is blocking I/O, so FastAPI runs it in the thread pool.
    user = users.get(claims.user_id)
    if user is None:
        raise unauthorized("The token's user no longer exists")
    if user.token_version != claims.ver:
        raise unauthorized("The token was issued before a password change; log in again")
    return user


CurrentUserDep = Annotated[User, Depends(get_current_user)]


class RequireScope:
    """A dependency that lets the request through only if the token carries `scope`.

    It depends on get_current_user, so the token is checked, and its user found,
    before the scope is even looked at: the layers run in order.
    """

    def __init__(self, scope: str) -> None:
        self.scope = scope

    def __call__(self, claims: AccessClaimsDep, user: CurrentUserDep) -> User:
        if self.scope not in claims.scopes:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"This needs the {self.scope!r} scope",
                headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{self.scope}"'},
            )
        return user


require_admin = RequireScope("admin")
AdminDep = Annotated[User, Depends(require_admin)]

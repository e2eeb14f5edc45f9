"""Who is calling, and may their token be used here? Each layer can stop the request.

    get_access_claims   a valid ACCESS token of this tenant, not logged out,
                        its family not revoked?                          401
    get_current_user    its user still exists, at the same token version
                        (no password or role change since)?              401
    get_current_user    the token carries every scope the route asks for
                        through Security(..., scopes=[...])?             403

permissions.py adds the last layers: the permission the user's role holds and
the ownership of the resource (403), then the resource itself (404).

Scopes come through SecurityScopes: FastAPI collects the scopes that every
`Security(...)` on the way from the route down to here asked for, so one
dependency checks them all. Every 401 carries `WWW-Authenticate: Bearer` with
the scopes needed (RFC 6750, section 3); a 403 for a missing scope says
error="insufficient_scope" and which scopes.
"""

from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import OAuth2PasswordBearer, SecurityScopes

from .dependencies import SessionDep, TenantDep, UserRepositoryDep
from .models import User
from .revocation import TokenRevocation
from .roles import SCOPE_DESCRIPTIONS
from .tenancy import Tenant
from .tokens import InvalidToken, TokenClaims, TokenService

# tokenUrl is what the Authorize button of /docs posts the log-in form to. auto_error=False:
# a missing token gets our 401, which names the scopes the route needs.
oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="token",
    scopes=SCOPE_DESCRIPTIONS,
    auto_error=False,
    # Swagger UI shows this in its Authorize dialog, where a learner needs it.
    description=(
        "Log in with your email as username; client_id names the tenant (acme or globex), and "
        "client_secret stays empty.\n\n"
        "**Demo admin**: username `admin@acme.example`, password `storefront-demo-admin`, client_id `acme` "
        "(or `admin@globex.example` with client_id `globex`). "
        "WORKBOOK_DEMO_ADMIN_PASSWORD sets another password; WORKBOOK_SEED_DEMO_ADMINS=false removes them."
    ),
)


async def get_token_service(request: Request) -> TokenService:
    return request.state.tokens


async def get_revocation(request: Request) -> TokenRevocation:
    return request.state.revocation


TokenServiceDep = Annotated[TokenService, Depends(get_token_service)]
RevocationDep = Annotated[TokenRevocation, Depends(get_revocation)]


def challenge(error: str | None = None, scopes: SecurityScopes | None = None) -> str:
    """The WWW-Authenticate value (RFC 6750, section 3): what to send, and what was wrong."""
    parts = [f'error="{error}"'] if error else []
    if scopes and scopes.scopes:
        parts.append(f'scope="{scopes.scope_str}"')
    return "Bearer " + ", ".join(parts) if parts else "Bearer"


def unauthorized(detail: str, scopes: SecurityScopes | None = None, error: str | None = "invalid_token"):
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": challenge(error, scopes)})


def decode_access_token(
    tokens: TokenService, token: str, tenant: Tenant, security_scopes: SecurityScopes
) -> TokenClaims:
    """The claims of a signed, unexpired access token of `tenant`; a 401 for any other."""
    try:
        claims = tokens.decode(token, expected="access")
    except InvalidToken as error:
        raise unauthorized(str(error), security_scopes) from error
    if claims.tenant != tenant.id:
        raise unauthorized("The token was issued for another tenant", security_scopes)
    return claims


async def get_access_claims(
    security_scopes: SecurityScopes,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    tenant: TenantDep,
    tokens: TokenServiceDep,
    revocation: RevocationDep,
) -> TokenClaims:
    if token is None:
        raise unauthorized("Not authenticated", security_scopes, error=None)
    claims = decode_access_token(tokens, token, tenant, security_scopes)
    if not await revocation.is_active(claims.tenant, claims.jti, claims.fam):
        raise unauthorized("The token has been revoked", security_scopes)
    return claims


AccessClaimsDep = Annotated[TokenClaims, Depends(get_access_claims)]


def check_version(version: int, claims: TokenClaims, security_scopes: SecurityScopes) -> None:
    """Refuse a token issued before its user's last password or role change, or one without the scopes asked for."""
    if version != claims.ver:
        raise unauthorized("The token was issued before a password or role change; log in again", security_scopes)
    missing = [scope for scope in security_scopes.scopes if scope not in claims.scopes]
    if missing:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"The token lacks the scope {' '.join(missing)!r}",
            headers={"WWW-Authenticate": challenge("insufficient_scope", security_scopes)},
        )


def get_current_user(
    security_scopes: SecurityScopes, claims: AccessClaimsDep, users: UserRepositoryDep, session: SessionDep
) -> User:
    # A plain `def`: the lookup is blocking I/O, so FastAPI runs it in the thread pool.
    user = users.get(claims.user_id)
    # End the read in this thread: its pooled connection goes back now, not when the request
    # ends. A route that then waits (for a thread, a lock, a payment) holds no connection,
    # so a crowd of requests cannot fill the pool while the threads wait for a connection.
    # The user stays loaded: the sessions do not expire objects on commit.
    session.commit()
    if user is None:
        raise unauthorized("The token's user no longer exists", security_scopes)
    check_version(user.token_version, claims, security_scopes)
    return user


CurrentUserDep = Annotated[User, Depends(get_current_user)]
# The usual dependency of a user's own routes: any logged-in user whose token may act as them.
MeDep = Annotated[User, Security(get_current_user, scopes=["me"])]

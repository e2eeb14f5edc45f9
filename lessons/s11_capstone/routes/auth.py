"""Log in, refresh, log out: the routes that hand out tokens and take them back.

POST /token          the OAuth2 password flow (a form: username is the email); a new family
POST /token/refresh  a refresh token in, a new pair out; the old refresh token is spent
POST /logout         the access token stops working now; its family is revoked

POST /token answers its failures as OAuth2 clients expect them (oauth_errors.py).
"""

from datetime import timedelta
from functools import partial

import structlog
from fastapi import APIRouter, Depends, status
from fastapi.concurrency import run_in_threadpool

from ..authentication import AccessClaimsDep, RevocationDep, TokenServiceDep, unauthorized
from ..dependencies import TenantDep, UserRepositoryDep
from ..login import AuthenticatedUserDep, LoginForm, LoginTenantDep, limit_login_attempts
from ..models import User
from ..oauth_errors import OAuthErrorBody, OAuthErrorRoute
from ..rate_limiting import rate_limiter
from ..revocation import Rotation, TokenRevocation
from ..roles import scopes_for
from ..schemas import RefreshRequest, TokenPair
from ..tokens import InvalidToken, TokenService, new_family

router = APIRouter(tags=["authentication"])
# POST /token alone: its errors take the RFC's shape, and the other routes keep the API's usual one.
password_flow = APIRouter(tags=["authentication"], route_class=OAuthErrorRoute)


async def issue_pair(
    tokens: TokenService,
    revocation: TokenRevocation,
    user: User,
    tenant: str,
    scopes: set[str] | frozenset[str],
    family: str,
    spent_refresh_jti: str | None = None,
) -> TokenPair:
    """A new access and refresh token for `user`; records the refresh token as its family's current one."""
    # Both tokens carry the same identity; only their type differs.
    issue = partial(
        tokens.issue, user_id=user.id, tenant=tenant, version=user.token_version, scopes=sorted(scopes), family=family
    )
    access, refresh = issue("access"), issue("refresh")
    lifetime = int(tokens.lifetimes["refresh"] / timedelta(seconds=1))
    if spent_refresh_jti is None:
        await revocation.start_family(tenant, family, refresh.claims.jti, lifetime)
    else:
        outcome = await revocation.rotate(tenant, family, spent_refresh_jti, refresh.claims.jti, lifetime)
        if outcome is Rotation.REUSED:
            structlog.get_logger().warning("refresh.reuse_detected", tenant=tenant, user_id=user.id, family=family)
            raise unauthorized("This refresh token was already used; every session it belongs to is now logged out")
        if outcome is Rotation.REVOKED:
            raise unauthorized("The refresh token has been revoked")
    return TokenPair(
        access_token=access.token,
        refresh_token=refresh.token,
        expires_in=access.claims.seconds_left(),
        scope=" ".join(sorted(scopes)),
    )


@password_flow.post(
    "/token",
    dependencies=[Depends(limit_login_attempts)],
    responses={
        400: {"model": OAuthErrorBody, "description": "The log-in failed; `error` says why (RFC 6749, 5.2)"},
        429: {"model": OAuthErrorBody, "description": "Too many log-in attempts; see Retry-After"},
    },
)
async def log_in(
    form: LoginForm,
    user: AuthenticatedUserDep,
    tenant: LoginTenantDep,
    tokens: TokenServiceDep,
    revocation: RevocationDep,
) -> TokenPair:
    # Requested scopes narrow the grant; a scope the user may not have is simply not granted (RFC 6749, 3.3).
    allowed = scopes_for(user.role)  # the role decides what a log-in may carry
    scopes = allowed & set(form.scopes) if form.scopes else allowed
    return await issue_pair(tokens, revocation, user, tenant.id, scopes, new_family())


# include_router copies the routes declared so far, so it comes after /token (which then
# also comes first in /docs).
router.include_router(password_flow)


@router.post("/token/refresh", dependencies=[Depends(rate_limiter)])
async def refresh_tokens(
    body: RefreshRequest,
    tenant: TenantDep,
    tokens: TokenServiceDep,
    revocation: RevocationDep,
    users: UserRepositoryDep,
) -> TokenPair:
    try:
        claims = tokens.decode(body.refresh_token, expected="refresh")
    except InvalidToken as error:
        raise unauthorized(str(error)) from error
    if claims.tenant != tenant.id:
        raise unauthorized("The token was issued for another tenant")
    user = await run_in_threadpool(users.get, claims.user_id)  # blocking I/O: off the event loop
    if user is None or user.token_version != claims.ver:
        await revocation.revoke_family(claims.tenant, claims.fam)
        raise unauthorized("The refresh token is no longer valid; log in again")
    # The new pair never carries more than the old one did, nor more than the user may have now.
    scopes = set(claims.scopes) & scopes_for(user.role)
    return await issue_pair(tokens, revocation, user, tenant.id, scopes, claims.fam, spent_refresh_jti=claims.jti)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(rate_limiter)])
async def log_out(claims: AccessClaimsDep, revocation: RevocationDep) -> None:
    # The access token: on the denylist until it would have expired anyway.
    await revocation.deny(claims.tenant, claims.jti, claims.seconds_left())
    # Its refresh token, and every other token of this log-in: gone with the family.
    await revocation.revoke_family(claims.tenant, claims.fam)

"""Log in, refresh, log out: the routes that hand out tokens and take them back.

POST /token          the OAuth2 password flow (a form: username is the email); a new family
POST /token/refresh  a refresh token in, a new pair out; the old refresh token is spent
POST /logout         the access token stops working now; its family is revoked
"""

import base64
import binascii
from datetime import timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Header, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from structlog.typing import FilteringBoundLogger

from .authentication import AccessClaimsDep, RevocationDep, TokenServiceDep, unauthorized
from .dependencies import PasswordHasherDep, RedisDep, SettingsDep, TenantDep, UserRepositoryDep, get_logger, get_tenant
from .login_throttling import LoginThrottleDep
from .models import User
from .rate_limiting import client_host, rate_limiter
from .repositories import AuditLog, SqlAlchemyUserRepository
from .revocation import Rotation, TokenRevocation
from .roles import scopes_for
from .schemas import PasswordLoginForm, RefreshRequest, TokenPair
from .services import UserService
from .tenancy import Tenant
from .tokens import InvalidToken, TokenService, new_family

router = APIRouter(tags=["authentication"])

LoginForm = Annotated[PasswordLoginForm, Depends()]


def basic_client_id(request: Request) -> str | None:
    """The client id of an `Authorization: Basic` header, if there is a usable one."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, _ = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id or None


def get_login_tenant(
    request: Request,
    form: LoginForm,
    header: Annotated[str | None, Header(alias="X-Tenant-ID")] = None,
) -> Tenant:
    """The tenant to log in to: the X-Tenant-ID header, or else the OAuth2 client id.

    The Authorize button of /docs posts the form by itself and sends no custom
    header, so there the tenant travels as client_id: in the form, or in a Basic
    header, depending on the dialog's "client credentials location".
    """
    client_id = form.client_id or basic_client_id(request)
    if header and client_id and header != client_id:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "X-Tenant-ID and client_id name different tenants")
    chosen = header or client_id
    if chosen is None:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "Say which tenant to log in to: the X-Tenant-ID header, or client_id"
        )
    return get_tenant(request, chosen)


LoginTenantDep = Annotated[Tenant, Depends(get_login_tenant)]


async def limit_login_attempts(
    request: Request, tenant: LoginTenantDep, redis: RedisDep, settings: SettingsDep
) -> None:
    """Brute force costs requests: a small budget of log-in attempts per tenant and client, apart from the others."""
    limit = settings.login_attempts_per_minute
    count, seconds_left = await rate_limiter.hit(redis, f"login-attempts:{tenant.id}:{client_host(request)}")
    if count > limit:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"Too many log-in attempts; try again in {seconds_left} seconds",
            headers={"Retry-After": str(seconds_left)},
        )


def authenticate_user(
    form: LoginForm,
    tenant: LoginTenantDep,
    passwords: PasswordHasherDep,
    logger: Annotated[FilteringBoundLogger, Depends(get_logger)],
) -> User:
    """The user the form's email and password belong to; 401 otherwise.

    A plain `def`, so bcrypt's deliberate slowness runs in the thread pool, not
    on the event loop. Its session comes from the log-in tenant (the usual
    session follows the X-Tenant-ID header, which the /docs dialog does not send).
    """
    with tenant.sessions() as session:
        users = UserService(SqlAlchemyUserRepository(session), AuditLog(session), logger, passwords)
        user = users.authenticate(form.username, form.password)
    if user is None:
        # One answer for an unknown email and a wrong password: two would tell
        # an attacker which emails have accounts.
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Incorrect email or password", headers={"WWW-Authenticate": "Bearer"}
        )
    return user


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
    identity = {"user_id": user.id, "tenant": tenant, "version": user.token_version, "family": family}
    access = tokens.issue("access", scopes=sorted(scopes), **identity)
    refresh = tokens.issue("refresh", scopes=sorted(scopes), **identity)
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


async def authenticate_within_budget(
    request: Request,
    form: LoginForm,
    tenant: LoginTenantDep,
    passwords: PasswordHasherDep,
    logger: Annotated[FilteringBoundLogger, Depends(get_logger)],
    throttle: LoginThrottleDep,
) -> User:
    """authenticate_user, within the account's budget of wrong passwords (login_throttling.py)."""
    attempt = throttle.attempt(tenant.id, form.username, client_host(request))
    await throttle.begin(attempt)  # 429 before bcrypt runs at all
    try:
        user = await run_in_threadpool(authenticate_user, form, tenant, passwords, logger)
    except HTTPException:
        await throttle.failed(attempt)
        raise
    await throttle.succeeded(attempt)
    return user


@router.post("/token", dependencies=[Depends(limit_login_attempts)])
async def log_in(
    form: LoginForm,
    user: Annotated[User, Depends(authenticate_within_budget)],
    tenant: LoginTenantDep,
    tokens: TokenServiceDep,
    revocation: RevocationDep,
) -> TokenPair:
    # Requested scopes narrow the grant; a scope the user may not have is simply not granted (RFC 6749, 3.3).
    allowed = scopes_for(user.role)  # the role decides what a log-in may carry
    scopes = allowed & set(form.scopes) if form.scopes else allowed
    return await issue_pair(tokens, revocation, user, tenant.id, scopes, new_family())


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

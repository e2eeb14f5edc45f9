"""Log-in: which tenant a log-in is for, how many attempts it may make, whose password it is.

The dependencies of POST /token (routes/auth.py). The form is OAuth2's password
flow: `username` is the email, and the tenant may come as the OAuth2 client id.
"""

import base64
import binascii
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from structlog.typing import FilteringBoundLogger

from .dependencies import PasswordHasherDep, RedisDep, SettingsDep, get_logger
from .login_throttling import LoginThrottleDep
from .models import User
from .oauth_errors import OAuthError
from .rate_limiting import client_host, rate_limiter
from .repositories import AuditLog, SqlAlchemyUserRepository
from .schemas import PasswordLoginForm
from .services import UserService
from .tenancy import Tenant, TenantRegistry, is_valid_tenant_id

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
        raise OAuthError("invalid_request", "X-Tenant-ID and client_id name different tenants")
    chosen = header or client_id
    if chosen is None:
        raise OAuthError("invalid_request", "Say which tenant to log in to: the X-Tenant-ID header, or client_id")
    # To OAuth2 the tenant is the client: an unknown one is an unknown client. Only a
    # well-formed id is quoted back: RFC 6749 allows printable ASCII in a description, bar " and \.
    if not is_valid_tenant_id(chosen):
        raise OAuthError("invalid_client", "A tenant id (client_id) is 2 to 31 lowercase letters, digits or _")
    registry: TenantRegistry = request.state.tenants
    tenant = registry.get(chosen)
    if tenant is None:
        raise OAuthError("invalid_client", f"No tenant {chosen!r}: client_id names the tenant, such as acme")
    return tenant


LoginTenantDep = Annotated[Tenant, Depends(get_login_tenant)]


async def limit_login_attempts(
    request: Request, tenant: LoginTenantDep, redis: RedisDep, settings: SettingsDep
) -> None:
    """Brute force costs requests: a small budget of log-in attempts per tenant and client, apart from the others."""
    limit = settings.login_attempts_per_minute
    count, seconds_left = await rate_limiter.hit(redis, f"login-attempts:{tenant.id}:{client_host(request)}")
    if count > limit:
        raise OAuthError(
            "slow_down",
            f"Too many log-in attempts; try again in {seconds_left} seconds",
            status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(seconds_left)},
        )


def authenticate_user(
    form: LoginForm,
    tenant: LoginTenantDep,
    passwords: PasswordHasherDep,
    logger: Annotated[FilteringBoundLogger, Depends(get_logger)],
) -> User:
    """The user the form's email and password belong to; invalid_grant otherwise.

    A plain `def`, so bcrypt's deliberate slowness runs in the thread pool, not
    on the event loop. Its session comes from the log-in tenant (the usual
    session follows the X-Tenant-ID header, which the /docs dialog does not send).
    """
    with tenant.sessions() as session:
        users = UserService(SqlAlchemyUserRepository(session), AuditLog(session), logger, passwords)
        user = users.authenticate(form.username, form.password)
    if user is None:
        # One answer for an unknown email and a wrong password: two would tell
        # an attacker which emails have accounts. (400, not 401: RFC 6749 keeps 401
        # for a client that failed to authenticate, and a password is the grant.)
        raise OAuthError("invalid_grant", "Incorrect email or password")
    return user


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


AuthenticatedUserDep = Annotated[User, Depends(authenticate_within_budget)]

"""The last layers of the chain: may this user do this, to this resource?

    PermissionChecker("users:delete")   the user's ROLE holds the permission      403
    OwnerOrPermission("users:edit", scope="users:write")
                                        the resource is the caller's own, or
                                        the role holds the permission and the
                                        token carries the scope                   403

Both run after authentication.py's layers (token 401, user 401, scope 403), and
before the route, which answers 404 for a resource that does not exist. So a
customer asking for someone else's profile learns nothing, not even whether
that id exists: they get 403 either way.

Permission decisions are CACHED in Redis, because each one is a database query
and a route may need one on every request:

    what      "may user U, with role R at token version V, do P in tenant T?": "1" or "0"
    key       perm:<tenant>:<user id>:<token version>:<role>:<permission>
    how long  settings.permission_cache_seconds (60 s by default)

A role change bumps the user's token version (services.py), and both the role
and the version are in the key: the next request looks up a key that has never
been written, so no decision made for the old role can be read again. A password
change bumps the version too. What the key cannot see is an edit of the
role_permissions table itself; the expiry bounds how long such an edit waits.
"""

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from .authentication import AccessClaimsDep, CurrentUserDep
from .dependencies import SessionDep, TenantDep
from .models import RolePermission, User
from .path_params import UserId


def role_holds(session: Session, role: str, permission: str) -> bool:
    """The database's answer: one query on the tenant's role_permissions table."""
    found = session.scalar(
        select(RolePermission.id).where(RolePermission.role == role, RolePermission.permission == permission)
    )
    return found is not None


class PermissionCache:
    def __init__(self, redis: Redis, seconds: int) -> None:
        self.redis = redis
        self.seconds = seconds

    @staticmethod
    def key(tenant_id: str, user: User, permission: str) -> str:
        return f"perm:{tenant_id}:{user.id}:{user.token_version}:{user.role}:{permission}"

    async def allows(self, tenant_id: str, user: User, permission: str, session: Session) -> bool:
        key = self.key(tenant_id, user, permission)
        cached = await self.redis.get(key)
        if cached is not None:
            return cached == "1"
        # Blocking I/O on the request's session: off the event loop.
        allowed = await run_in_threadpool(role_holds, session, user.role, permission)
        await self.redis.set(key, "1" if allowed else "0", ex=self.seconds)
        return allowed


def get_permission_cache(request: Request) -> PermissionCache:
    return request.state.permissions


PermissionCacheDep = Annotated[PermissionCache, Depends(get_permission_cache)]


def forbidden(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail)


class PermissionChecker:
    """A dependency that lets the request through only if the caller's role holds `permission`.

    Use it with Security to ask for token scopes at the same time:
    `Security(PermissionChecker("users:delete"), scopes=["admin"])`.
    """

    def __init__(self, permission: str) -> None:
        self.permission = permission

    async def __call__(
        self, caller: CurrentUserDep, tenant: TenantDep, session: SessionDep, cache: PermissionCacheDep
    ) -> User:
        if not await cache.allows(tenant.id, caller, self.permission, session):
            raise forbidden(f"The role {caller.role!r} does not have the permission {self.permission!r}")
        return caller


class OwnerOrPermission:
    """For routes on /users/{user_id}: the caller themselves, or someone allowed to act on others.

    Acting on someone else needs both halves: the token must carry `scope` (what
    this client was granted) and the role must hold `permission` (what this
    person may do). Either alone is not enough.
    """

    def __init__(self, permission: str, scope: str) -> None:
        self.permission = permission
        self.scope = scope

    async def __call__(
        self,
        user_id: UserId,
        caller: CurrentUserDep,
        claims: AccessClaimsDep,
        tenant: TenantDep,
        session: SessionDep,
        cache: PermissionCacheDep,
    ) -> User:
        if caller.id == user_id:
            return caller
        if self.scope in claims.scopes and await cache.allows(tenant.id, caller, self.permission, session):
            return caller
        raise forbidden("You may only do this to your own account")


# Editing a user (the profile, the profile image): your own account, or anyone's
# with the users:write scope and the users:edit permission.
can_edit_user = OwnerOrPermission("users:edit", scope="users:write")

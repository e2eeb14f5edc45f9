"""Exercise 07/activity: who may read a user's activity log?

`GET /users/{user_id}/activity` answers the audit events about one user of the
tenant (what happened to their account, and when). It is personal, so:

- every user may read their OWN activity (the route already demands the "me" scope);
- reading SOMEONE ELSE's needs both the token scope "users:read" and a role
  holding the permission "users:read" (staff and admins do; the permission
  cache answers that: `await cache.allows(tenant.id, caller, "users:read", session)`);
- anyone else gets 403 "You may only read your own activity", whether or not
  that user exists: the 404 for an unknown id is only for callers who may look.

Write `may_read_activity`: answer the caller when they may read, raise the 403
otherwise. The route does the rest (and the 404).
"""

from fastapi import APIRouter, Depends, HTTPException, Security, status
from pydantic import BaseModel
from sqlalchemy import select

from ..authentication import AccessClaimsDep, CurrentUserDep
from ..dependencies import SessionDep, TenantDep, UserServiceDep
from ..models import AuditEvent, User
from ..path_params import UserId
from ..permissions import PermissionCacheDep
from ..rate_limiting import rate_limiter

router = APIRouter(tags=["exercises"])


class Activity(BaseModel):
    action: str


async def may_read_activity(
    user_id: UserId,
    caller: CurrentUserDep,
    claims: AccessClaimsDep,
    tenant: TenantDep,
    session: SessionDep,
    cache: PermissionCacheDep,
) -> User:
    raise NotImplementedError("exercise 07/activity: write this part")


@router.get(
    "/users/{user_id}/activity", dependencies=[Depends(rate_limiter), Security(may_read_activity, scopes=["me"])]
)
def read_activity(user_id: UserId, users: UserServiceDep, session: SessionDep) -> list[Activity]:
    user = users.get(user_id)  # 404 for an unknown id, only once the caller may look
    events = session.scalars(select(AuditEvent).where(AuditEvent.subject == user.email).order_by(AuditEvent.id))
    return [Activity(action=event.action) for event in events]

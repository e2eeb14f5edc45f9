"""Exercise 10/log_context: once a caller is authenticated, say who it is in every log line of the request.

A correlation id ties a request's lines together; to search them by customer
you also want the tenant and the user in each one. Write `bind_log_context`, a
dependency that runs after authentication: bind `tenant` (the tenant's id) and
`user_id` (the user's id) with `structlog.contextvars`, so that every later line
of the request carries them (the route's own, and the middleware's request line
at the end, correlation.py), and no other request's lines do.

GET /users/me/log-context answers what the request's log lines carry besides
their own fields: try it in /docs once logged in.
"""

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends

from ..authentication import MeDep
from ..dependencies import TenantDep
from ..models import User

router = APIRouter(tags=["exercises"])
logger = structlog.get_logger()


# `async def`, so it runs in the request's own task: a `def` dependency runs in a
# thread, in a COPY of the request's context, and what it binds stays in that copy.
async def bind_log_context(user: MeDep, tenant: TenantDep) -> User:
    # BEGIN SOLUTION
    structlog.contextvars.bind_contextvars(tenant=tenant.id, user_id=user.id)
    # END SOLUTION
    return user


LoggedInUserDep = Annotated[User, Depends(bind_log_context)]


@router.get("/users/me/log-context")
async def log_context(user: LoggedInUserDep) -> dict[str, str | int]:
    """What every log line of this request carries: the correlation id, the tenant, the user."""
    logger.info("log_context.read")
    return structlog.contextvars.get_contextvars()

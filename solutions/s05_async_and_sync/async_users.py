"""Exercise 05/async_users: the tenant's users, read through the async driver.

`GET /lab/async/users` (with an X-Tenant-ID header) answers the users of the
request's tenant in id (registration) order, at most `limit` of them (default
50). A user registered with POST /users appears here too: both engines reach the
same database, the same tenant schemas.

Write it as an `async def` route on the AsyncSession (AsyncSessionDep), never the
blocking Session: the route runs on the event loop, so every database call has
to be awaited. A select() statement reads the same as with a sync session; what
changes is the `await` in front of session.scalars(...).
"""

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from ..dependencies import AsyncSessionDep
from ..models import User
from ..schemas import UserOut

router = APIRouter(tags=["exercises"])


@router.get("/lab/async/users")
async def async_users(
    session: AsyncSessionDep, limit: Annotated[int, Query(ge=1, le=100, description="at most this many users")] = 50
) -> list[UserOut]:
    # BEGIN SOLUTION
    users = await session.scalars(select(User).order_by(User.id).limit(limit))
    return [UserOut.model_validate(user) for user in users]
    # END SOLUTION

"""Exercise 05/unblock_report: an `async def` route that blocked the event loop, fixed.

`GET /lab/report` (with an X-Tenant-ID header) answers a small report: how many
users the tenant has, and the thread that built it. `build_report` below is
existing blocking code (a sync session, and a slow query that waits `seconds`).
The route was first written like this:

    @router.get("/lab/report")
    async def report(session: SessionDep, seconds: ...) -> Report:
        return build_report(session, seconds)   # the event loop waits with it

While that query waits, the whole worker waits: no other request, not even
/health, is answered. Keep the route `async def` (a real one also awaits other
things) and run build_report in the thread pool instead, with Starlette's
run_in_threadpool. The report's `thread` then names a worker thread.
"""

import threading
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ..dependencies import SessionDep
from ..models import User
from ..slow_query import run_slow_query

router = APIRouter(tags=["exercises"])


class Report(BaseModel):
    users: int
    thread: str  # the thread that ran build_report


def build_report(session: Session, seconds: float) -> Report:
    """Blocking: every line waits for the database."""
    run_slow_query(session, seconds)
    users = session.scalars(select(func.count()).select_from(User)).one()  # a count is always one row
    return Report(users=users, thread=threading.current_thread().name)


@router.get("/lab/report")
async def report(
    session: SessionDep, seconds: Annotated[float, Query(ge=0, le=5, description="how long the slow query waits")] = 0.1
) -> Report:
    # BEGIN SOLUTION
    return await run_in_threadpool(build_report, session, seconds)
    # END SOLUTION

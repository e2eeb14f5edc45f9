"""Exercise 08/readiness: should this process be sent more requests right now?

GET /health answers while the process is up (liveness). GET /health/ready says
whether it can serve a request now (readiness): a load balancer or Kubernetes
stops sending traffic to a process that answers 503 there, and sends it again
once it answers 200.

Write `check_ready`. Answer 503 (raise HTTPException) with the detail

- "No free database connection" when the pool has none to give: every one of
  its `size` connections is checked out and its overflow is used up too
  (look at `health.checked_out`, `health.size` and `health.max_overflow`);
- "The database does not answer" when `SELECT 1`, on a connection of its own
  from `watch.engine`, fails (SQLAlchemy raises a DBAPIError, or its pool's
  TimeoutError).

Check the pool first: asking an exhausted pool for a connection would wait
pool_timeout for one. Otherwise the route answers the pool's figures, `health`.
"""

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..pool_watch import PoolHealth, PoolWatch
from ..routes.pool_health import PoolWatchDep

router = APIRouter(tags=["exercises"])


def check_ready(watch: PoolWatch) -> PoolHealth:
    health = watch.health()
    raise NotImplementedError("exercise 08/readiness: write this part")
    return health


@router.get("/health/ready", responses={503: {"description": "No free connection, or the database does not answer"}})
def ready(watch: PoolWatchDep) -> PoolHealth:
    return check_ready(watch)

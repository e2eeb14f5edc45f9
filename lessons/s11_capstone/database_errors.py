"""When the database cannot serve a request in time: 503 with Retry-After, not a hang and not a 500.

Two ways to run out of time, both the server being busy rather than the request
being wrong, so both say "try again shortly":

- every connection of the pool is held, and none came free within pool_timeout:
  SQLAlchemy raises its own `TimeoutError` (sqlalchemy.exc, not the builtin);
- PostgreSQL cancelled a statement that ran past statement_timeout_ms
  (statement_timeouts.py): the driver's error, SQLSTATE 57014.
"""

from fastapi import Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .problems import problem_response
from .statement_timeouts import is_statement_timeout

# Seconds a client should wait before trying again: a busy spell is usually short.
RETRY_AFTER_SECONDS = 1


def unavailable(request: Request, detail: str) -> JSONResponse:
    """One problem type for both: a client does the same for each (waits Retry-After, tries again)."""
    return problem_response(
        request,
        status.HTTP_503_SERVICE_UNAVAILABLE,
        detail,
        slug="database-busy",
        title="The database is busy",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def pool_exhausted(request: Request, error: Exception) -> JSONResponse:
    return unavailable(request, "Every database connection is busy; try again shortly")


async def statement_cancelled(request: Request, error: Exception) -> JSONResponse:
    if not (isinstance(error, OperationalError) and is_statement_timeout(error)):
        raise error  # any other operational error is not ours to dress up: a 500 (unexpected_errors.py)
    return unavailable(request, "The database took too long to answer; try again shortly")


DATABASE_HANDLERS = {PoolTimeout: pool_exhausted, OperationalError: statement_cancelled}

"""The error nobody expected: a 500 that tells the client nothing about the code, and the logs everything.

An exception's text and traceback name files, queries, sometimes data: sent to a
client they help an attacker and confuse a user. So the client gets a fixed
sentence and the request's correlation id, which is the thread to pull: the log
line that carries the same id holds the whole traceback.

Starlette gives a handler for `Exception` a place of its own: ServerErrorMiddleware,
outside every user middleware. So it runs after those have finished (a response
header they would add, such as X-Correlation-ID, is not there: this handler adds
it), and after sending the answer Starlette raises the exception again, for the
server to log as well (uvicorn does, as "Exception in ASGI application").
"""

from uuid import uuid4

import structlog
from fastapi import Request, status
from fastapi.responses import JSONResponse

from .problems import problem_response

DETAIL = "Something went wrong on our side; quote the correlation id when you report it"
CORRELATION_HEADER = "X-Correlation-ID"


def correlation_id() -> str:
    """The id the request's log lines carry, or a fresh one if nothing bound it: the answer always has one."""
    bound = structlog.contextvars.get_contextvars().get("correlation_id")
    return str(bound) if bound is not None else uuid4().hex


async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
    request_id = correlation_id()
    # The traceback goes to the log, and nowhere else. The id is passed as well as bound,
    # so the line carries it whether or not the log configuration merges bound values.
    structlog.get_logger().exception(
        "request.failed", method=request.method, path=request.url.path, correlation_id=request_id, exc_info=error
    )
    return problem_response(
        request,
        status.HTTP_500_INTERNAL_SERVER_ERROR,
        DETAIL,
        headers={CORRELATION_HEADER: request_id},
        correlation_id=request_id,
    )

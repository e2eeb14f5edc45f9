"""One id per request, in the X-Correlation-ID header and in every log line the request causes.

A client (or the proxy in front) may send X-Correlation-ID; the id is kept if it
is well formed, or replaced by a new one, and always sent back in the response.
The middleware binds it with `structlog.contextvars.bind_contextvars`, the context
that `merge_contextvars` (logging_config.py) reads for every line: the routes',
the dependencies', `def` code in anyio's threads (each thread runs in a copy of
the request's context), background jobs, SQL timings. It
leaves with the request's outbound calls (outbound.py) and Celery tasks
(task_correlation.py), so the payment provider and the worker log it too.

A plain `ContextVar` of one's own would carry the id just as far, but no log line
would show it: `merge_contextvars` reads structlog's context variables only.
"""

import re
import time
import uuid
from collections.abc import Iterable

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Correlation-ID"
# Bounded and plain: the id is written into every log line and echoed in a header,
# so it must not be long enough to bloat them or hold anything a log parser would misread.
WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,64}")

logger = structlog.get_logger()


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def accepted_id(values: Iterable[bytes]) -> str | None:
    """The client's id if it sent exactly one, well formed; None otherwise (several are ambiguous)."""
    [*ids] = values
    if len(ids) != 1:
        return None
    candidate = ids[0].decode("latin-1")
    return candidate if WELL_FORMED.fullmatch(candidate) else None


def correlation_id_for(scope: Scope) -> str:
    sent = (value for name, value in scope["headers"] if name == HEADER.lower().encode())
    return accepted_id(sent) or new_correlation_id()


class CorrelateRequests:
    """Pure ASGI middleware: a correlation id bound for each HTTP request, returned in its response.

    The context is cleared and bound at the START of each request and left as it is
    at the end: the 500 handler runs outside this middleware (Starlette's
    ServerErrorMiddleware), after it, and reads the id from the same context. Nothing
    leaks to the next request: each request runs in a task of its own, whose context
    is a copy made when the task began, and this middleware clears it first anyway.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = correlation_id_for(scope)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
        started = time.perf_counter()
        answered = False

        def log_request(status: int) -> None:
            # Logged as the answer starts, so it comes before the lines of any background job.
            # The id is not passed here: merge_contextvars adds it, as to every other line.
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            logger.info(
                "request.answered", method=scope["method"], path=scope["path"], status=status, duration_ms=duration_ms
            )

        async def send_with_id(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = correlation_id
                log_request(message["status"])
                answered = True
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if not answered:
                log_request(500)  # the 500 handler, outside this middleware, answers it
            raise

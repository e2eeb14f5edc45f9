"""Redis out of reach in the middle of a request: 503 with Retry-After, never a 500.

Most of what uses Redis carries on without it: the product cache reads the database
(tiered_cache.py), an anonymous read goes through uncounted (read_gate.py). A check
that guards access cannot: whether a token was logged out is known only to Redis,
and a token let through unchecked would work again for as long as Redis is away. So
that request is refused, with the status that says the fault is the service's and
passing, and when to ask again; the log line says which store failed and why.
"""

import structlog
from fastapi import Request, status
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from .problems import problem_response

RETRY_AFTER_SECONDS = 5
DETAIL = "A store this request needs is out of reach; try again shortly"


async def store_unavailable(request: Request, error: RedisError) -> JSONResponse:
    structlog.get_logger().warning("redis.unavailable", path=request.url.path, error=repr(error))
    return problem_response(
        request,
        status.HTTP_503_SERVICE_UNAVAILABLE,
        DETAIL,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )

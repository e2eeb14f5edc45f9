"""The exception handlers: every error the API sends, as problem details (problems.py).

The services raise plain Python exceptions and know nothing of HTTP; this is the
one place that decides what the client sees for each. A request that does not fit
its schema is answered by validation_errors.py, a database out of time by
database_errors.py, Redis out of reach by store_outage.py, anything nobody expected
by unexpected_errors.py. POST /token
answers in RFC 6749's shape as well (oauth_errors.py).
"""

import re

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException

from .database_errors import DATABASE_HANDLERS
from .orders import OrderNotFound
from .payments import ProviderTimeout, ProviderUnavailable
from .problems import problem_response
from .product_repository import ProductNotFound
from .profile_images import ProfileImageNotFound, ThumbnailNotFound
from .services import UserNotFound
from .stock import OutOfStock
from .store_outage import store_unavailable
from .unexpected_errors import unexpected_error
from .validation_errors import invalid_request

# Each exception the services raise, and the status it answers with.
STATUSES: dict[type[Exception], int] = {
    UserNotFound: status.HTTP_404_NOT_FOUND,
    ProductNotFound: status.HTTP_404_NOT_FOUND,
    ProfileImageNotFound: status.HTTP_404_NOT_FOUND,
    ThumbnailNotFound: status.HTTP_404_NOT_FOUND,
    # Another service failed us: a gateway's statuses, never a 500, which would say we did.
    ProviderUnavailable: status.HTTP_502_BAD_GATEWAY,
    ProviderTimeout: status.HTTP_504_GATEWAY_TIMEOUT,
    OrderNotFound: status.HTTP_404_NOT_FOUND,
    OutOfStock: status.HTTP_409_CONFLICT,
}


def words(class_name: str) -> list[str]:
    """ProductNotFound -> ["product", "not", "found"]: the class names its problem."""
    return [word.lower() for word in re.findall(r"[A-Z][a-z0-9]*", class_name)]


async def domain_error(request: Request, error: Exception) -> JSONResponse:
    """The status registered for the error's class (or the nearest base class), its message as the detail.

    The problem's type and title come from that class's name, so an entry in the
    table is all a new domain error needs: ProductNotFound is .../product-not-found,
    "Product not found".
    """
    registered = next(cls for cls in type(error).__mro__ if cls in STATUSES)
    name = words(registered.__name__)
    title = " ".join(name).capitalize()
    return problem_response(request, STATUSES[registered], str(error), slug="-".join(name), title=title)


async def http_error(request: Request, error: HTTPException) -> JSONResponse:
    """An HTTPException (ours, or Starlette's 404 and 405) as about:blank, keeping its headers.

    WWW-Authenticate on a 401 and Retry-After on a 429 or 409 are part of the answer:
    a client acts on them.
    """
    return problem_response(request, error.status_code, str(error.detail), headers=error.headers)


def register_error_handlers(app: FastAPI) -> None:
    for error_class in STATUSES:
        app.add_exception_handler(error_class, domain_error)
    # Starlette's annotation says a handler must accept any Exception, though it only
    # ever calls one with the class it was registered for. These handlers read the
    # attributes of their own class: correct, but not expressible there.
    app.add_exception_handler(HTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    for error_class, handler in DATABASE_HANDLERS.items():
        app.add_exception_handler(error_class, handler)
    app.add_exception_handler(RedisError, store_unavailable)  # type: ignore[arg-type]
    # Exception is the one class Starlette handles outside every middleware (unexpected_errors.py).
    app.add_exception_handler(Exception, unexpected_error)

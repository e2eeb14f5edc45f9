"""The exception handlers: each domain exception answered with its HTTP status.

The services raise plain Python exceptions and know nothing of HTTP; this is the
one place that decides what the client sees for each. A request that does not fit
its schema is answered by validation_errors.py, a database out of time by
database_errors.py.
"""

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .database_errors import DATABASE_HANDLERS
from .orders import OrderNotFound
from .payments import ProviderTimeout, ProviderUnavailable
from .product_repository import ProductNotFound
from .profile_images import ProfileImageNotFound, ThumbnailNotFound
from .services import UserNotFound
from .stock import OutOfStock
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


async def domain_error(request: Request, error: Exception) -> JSONResponse:
    """The status registered for the error's class (or the nearest base class), its message as the detail."""
    code = next(STATUSES[cls] for cls in type(error).__mro__ if cls in STATUSES)
    return JSONResponse({"detail": str(error)}, status_code=code)


def register_error_handlers(app: FastAPI) -> None:
    for error_class in STATUSES:
        app.add_exception_handler(error_class, domain_error)
    # Starlette's annotation says a handler must accept any Exception, though it only
    # ever calls one with the class it was registered for. This handler reads
    # RequestValidationError's own `.errors()`: correct, but not expressible there.
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    for error_class, handler in DATABASE_HANDLERS.items():
        app.add_exception_handler(error_class, handler)

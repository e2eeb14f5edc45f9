"""The providers FastAPI calls to build what a route asks for.

The graph for POST /users (see the notebook for it drawn from the app itself):

    get_user_service
    ├── get_session
    ├── get_audit_log
    │   └── get_session      (the same session: FastAPI caches it per request)
    └── get_logger
        └── get_settings     (the same Settings for the whole app: lru_cache)
"""

from collections.abc import Iterator
from typing import Annotated

import structlog
from fastapi import Depends, Request
from sqlalchemy.orm import Session
from structlog.typing import FilteringBoundLogger

from .services import AuditLog, UserService
from .settings import Settings, get_settings


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, from the factory the lifespan built at start-up.

    The service commits before the route returns. This dependency guarantees the
    other outcomes: if anything raised, roll back; whatever happened, close.
    It must not commit after `yield`: FastAPI runs that code after the response
    has been sent, so a failed commit would still have answered 200.
    """
    session = request.state.sessions()
    try:
        yield session
    except Exception:
        session.rollback()
        raise  # re-raise, or FastAPI never learns the request failed
    finally:
        session.close()


def get_logger(request: Request, settings: Annotated[Settings, Depends(get_settings)]) -> FilteringBoundLogger:
    return structlog.get_logger().bind(app=settings.app_name, method=request.method, path=request.url.path)


def get_audit_log(session: Annotated[Session, Depends(get_session)]) -> AuditLog:
    return AuditLog(session)


def get_user_service(
    session: Annotated[Session, Depends(get_session)],
    audit: Annotated[AuditLog, Depends(get_audit_log)],
    logger: Annotated[FilteringBoundLogger, Depends(get_logger)],
) -> UserService:
    return UserService(session, audit, logger)


SessionDep = Annotated[Session, Depends(get_session)]
UserServiceDep = Annotated[UserService, Depends(get_user_service)]

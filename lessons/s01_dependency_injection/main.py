"""Stage 01: users stored in a database, every resource handed in by `Depends`.

Serve it with `make serve LESSON=01` and open http://127.0.0.1:8000/docs.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.orm import sessionmaker

from .catalogue import CATALOGUE, Product
from .database import Base, create_db_engine
from .dependencies import UserServiceDep
from .exercises import audit_trail, pagination
from .logging_config import configure_logging
from .schemas import StorableText, UserCreate, UserOut
from .services import EmailAlreadyRegistered, UserNotFound
from .settings import get_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    # Application scope: built once when the app starts, released when it stops.
    settings = get_settings()
    configure_logging()
    engine = create_db_engine(settings.database_url, echo=settings.sql_echo)
    Base.metadata.create_all(engine)  # blocking, but no request is being served yet
    # What the lifespan yields is copied into every request's `request.state`.
    yield {"sessions": sessionmaker(engine, expire_on_commit=False)}
    engine.dispose()


app = FastAPI(
    title="Storefront API",
    version="stage 01",
    summary="Dependency injection: settings, sessions, loggers and services.",
    lifespan=lifespan,
)


@app.exception_handler(UserNotFound)
async def user_not_found(request: Request, error: UserNotFound) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=status.HTTP_404_NOT_FOUND)


@app.exception_handler(EmailAlreadyRegistered)
async def email_taken(request: Request, error: EmailAlreadyRegistered) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=status.HTTP_409_CONFLICT)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "stage": "01"}


@app.get("/products")
def list_products() -> list[Product]:
    return list(CATALOGUE.values())


# Plain `def`, not `async def`: the session does blocking I/O, so FastAPI runs
# these in its thread pool and the event loop stays free (stage 05 measures it).
@app.post("/users", status_code=status.HTTP_201_CREATED)
def register_user(body: UserCreate, users: UserServiceDep) -> UserOut:
    return users.register(body.email, body.name)


@app.get("/users/{email}")
def get_user(email: StorableText, users: UserServiceDep) -> UserOut:
    return users.get_by_email(email)


# Your exercise routes. Until you write them, calling them answers 500 (NotImplementedError).
app.include_router(pagination.router)
app.include_router(audit_trail.router)

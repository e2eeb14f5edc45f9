"""The app's resources: built once when it starts, released when it stops.

`lifespan` is FastAPI's hook for both ends of the app's life. Each resource has
a small helper here that makes it and registers how to release it, so a new
resource is one more line in `lifespan`.
"""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from .database import Base, create_db_engine
from .logging_config import configure_logging
from .settings import Settings, get_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    # Application scope: built once when the app starts, released when it stops.
    settings = get_settings()
    configure_logging()
    # Each resource registers its clean-up as soon as it is made: when the app stops
    # (or a later resource fails to start) they run in reverse order.
    async with AsyncExitStack() as cleanup:
        engine = open_database(settings, cleanup)
        # What the lifespan yields is copied into every request's `request.state`.
        yield {"sessions": sessionmaker(engine, expire_on_commit=False)}


def open_database(settings: Settings, cleanup: AsyncExitStack) -> Engine:
    """The app's one engine, and so its one connection pool, with the tables made."""
    engine = create_db_engine(settings.database_url, echo=settings.sql_echo)
    cleanup.callback(engine.dispose)
    Base.metadata.create_all(engine)  # blocking, but no request is being served yet
    return engine

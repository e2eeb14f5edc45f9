"""The database engine and the declarative base the models inherit from."""

from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import StaticPool


class Base(DeclarativeBase):
    pass


def create_db_engine(url: str, echo: bool = False) -> Engine:
    """Build the application's one engine; it owns the connection pool.

    Call it once, at start-up. An engine made per request would open a new pool,
    and new connections, for every request.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        # An in-memory SQLite database lives inside a single connection: a second
        # connection would see an empty database. StaticPool hands that one
        # connection to every session. Good for learning; a file or PostgreSQL
        # is what serves concurrent requests.
        return create_engine(url, echo=echo, poolclass=StaticPool, connect_args={"check_same_thread": False})
    return create_engine(url, echo=echo, pool_pre_ping=True)

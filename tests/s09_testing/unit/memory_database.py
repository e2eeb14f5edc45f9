"""In-memory SQLite for unit tests: a fresh database per test, with the models' tables, that every connection sees."""

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from lessons.s09_testing.database import Base, tenant_engine


def memory_engine(**options) -> Engine:
    """An in-memory database with every table of the models; `options` go to create_engine.

    SQLite has no schemas: the models' placeholder schema is mapped to its one
    database, so the tables are created, and found, there.
    """
    engine = tenant_engine(create_engine("sqlite://", **options), None)
    Base.metadata.create_all(engine)
    return engine


def shared_memory_engine() -> Engine:
    """The fix for the pitfall in test_memory_database.py: one connection, handed to everyone.

    StaticPool keeps the single connection the database lives in and gives it to
    every checkout, in any thread (hence check_same_thread=False: SQLite would
    otherwise refuse a connection used outside the thread that made it).
    """
    return memory_engine(poolclass=StaticPool, connect_args={"check_same_thread": False})


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)

"""Pitfall: an in-memory SQLite database lives inside ONE connection.

Open a second connection and it is a second, empty database. By default
SQLAlchemy gives each thread a connection of its own (SingletonThreadPool), and
FastAPI runs every `def` route and dependency in a pool thread: the tables a
fixture created in the test's thread are not there for the route. StaticPool
hands the same connection to every thread.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import SingletonThreadPool

from lessons.s09_testing.models import Product

from .memory_database import memory_engine, sessions, shared_memory_engine

pytestmark = pytest.mark.unit


def count_products_in_another_thread(engine) -> int:
    """What a `def` route would see: the query runs in a worker thread, as FastAPI's thread pool runs it."""

    def count() -> int:
        with sessions(engine)() as session:
            return len(session.scalars(select(Product)).all())

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(count).result()


def test_pitfall_without_static_pool_another_thread_finds_no_tables():
    engine = memory_engine()  # the default pool: a connection per thread
    assert isinstance(engine.pool, SingletonThreadPool)
    with pytest.raises(OperationalError, match="no such table"):
        count_products_in_another_thread(engine)


def test_with_static_pool_every_thread_sees_the_same_database():
    engine = shared_memory_engine()
    with sessions(engine)() as session:
        session.add(Product(sku="MUG-001", name="Enamel mug", price="12.50", stock=40))
        session.commit()
    assert count_products_in_another_thread(engine) == 1

"""Scratch databases on the real servers, for a run on the services tier: made fresh, removed afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from workbook.doctor import service_urls


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database on the test server, dropped afterwards (even with connections open)."""
    import psycopg  # only on the services tier: importing it costs most of a second
    from psycopg import sql
    from sqlalchemy import make_url

    server = make_url(service_urls()[0])
    name = f"workbook_{uuid.uuid4().hex[:12]}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def emptied_redis(url: str) -> Iterator[None]:
    """The Redis database `url` names, emptied before and after: no count of an earlier run carries over."""
    import redis

    server = redis.Redis.from_url(url)
    server.flushdb()
    try:
        yield
    finally:
        server.flushdb()
        server.close()

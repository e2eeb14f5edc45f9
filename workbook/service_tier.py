"""The services tier outside pytest: a fresh PostgreSQL database, and the test Redis emptied around a run.

The tests (tests/stack_tiers.py) and `make e2e SERVICES=1` (workbook/scenario.py) both
start a stack this way, on the servers `workbook/doctor.py` names
(WORKBOOK_TEST_DATABASE_URL, WORKBOOK_TEST_REDIS_URL).
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from workbook.doctor import service_urls


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database on the test server, dropped afterwards (even with connections open)."""
    import psycopg  # only on this tier: importing it costs most of a second
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
def emptied_test_redis() -> Iterator[str]:
    """The test Redis's URL, its database emptied before and after: no key of an earlier run counts."""
    import redis

    url = service_urls()[1]
    server = redis.Redis.from_url(url)
    server.flushdb()
    try:
        yield url
    finally:
        server.flushdb()
        server.close()

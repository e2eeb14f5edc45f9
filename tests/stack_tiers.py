"""A stage's whole stack for end-to-end tests, on either tier.

The stack is what `make serve` runs (workbook/stack.py): broker, mail server, Celery
worker and beat, the fake payment provider and the app in uvicorn, each its own
process. On the embedded tier they share a SQLite file and the embedded broker; on
the services tier (--services), the test Redis and a fresh PostgreSQL database.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workbook.doctor import service_urls
from workbook.stack import Stack, running_stack
from workbook.stages import Stage


def tiers(config) -> list[str]:
    """The tiers a module's `stack` runs on: the embedded one, and with --services the real services too."""
    return ["embedded", "services"] if config.getoption("services") else ["embedded"]


@contextmanager
def stack_on(
    services: bool, stage: Stage, mailbox: Path, extra_env: dict[str, str] | None = None, api_processes: int = 1
) -> Iterator[Stack]:
    """`stage`'s stack, started on the chosen tier and stopped afterwards; the test Redis emptied around it.

    `api_processes` above 1 serves the app from that many uvicorn processes, each on a port of its own.
    """
    if not services:
        with running_stack(stage, mailbox=mailbox, extra_env=extra_env, api_processes=api_processes) as running:
            yield running
        return
    import redis  # with --services only: see tests/conftest.py

    redis_url = service_urls()[1]
    server = redis.Redis.from_url(redis_url)
    server.flushdb()
    try:
        with (
            postgres_database() as database_url,
            running_stack(
                stage,
                mailbox=mailbox,
                extra_env=extra_env,
                redis_url=redis_url,
                database_url=database_url,
                api_processes=api_processes,
            ) as running,
        ):
            yield running
    finally:
        server.flushdb()
        server.close()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database on the test server, dropped afterwards (even with connections open)."""
    import psycopg  # with --services only: importing it costs most of a second
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

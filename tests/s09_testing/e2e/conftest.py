"""The whole stack, as `make serve` runs it: broker, mail server, Celery worker and beat, the
fake payment provider, and the app in uvicorn, each its own process (workbook/stack.py).

Started once per module (a few seconds), on the embedded broker and a SQLite file;
with --services a second time, on real Redis and a fresh PostgreSQL database.
"""

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import psycopg
import pytest
import redis
from psycopg import sql
from sqlalchemy import make_url

from workbook.doctor import service_urls
from workbook.mail_server import messages, read_message
from workbook.stack import Stack, running_stack
from workbook.stages import get_stage


def pytest_generate_tests(metafunc):
    if "stack" in metafunc.fixturenames:
        real = metafunc.config.getoption("services")
        metafunc.parametrize("stack", ["embedded", "services"] if real else ["embedded"], indirect=True, scope="module")


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory) -> Iterator[Stack]:
    mailbox = tmp_path_factory.mktemp("mailbox")
    if request.param == "embedded":
        with running_stack(get_stage("09"), mailbox=mailbox) as running:
            yield running
        return
    server = redis.Redis.from_url(service_urls()[1])
    server.flushdb()
    with postgres_database() as database_url:
        with running_stack(
            get_stage("09"), mailbox=mailbox, redis_url=service_urls()[1], database_url=database_url
        ) as running:
            yield running
    server.flushdb()
    server.close()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database that the stack's processes share, dropped afterwards."""
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


def welcome_email(mailbox: Path, address: str, timeout: float = 30) -> EmailMessage:
    """The first message to `address`, once the worker has sent it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in messages(mailbox):
            message = read_message(path)
            if message["To"] == address:
                return message
        time.sleep(0.1)
    raise AssertionError(f"no email to {address} arrived within {timeout} s")

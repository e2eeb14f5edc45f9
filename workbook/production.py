"""`make serve-prod`: a stage served as in production, on PostgreSQL and Redis, with several API processes.

What runs, and why each piece is what it is:

- N API worker processes under uvicorn's own supervisor (`uvicorn --workers N`),
  all accepting on one port. Gunicorn is the classic supervisor, but uvicorn's
  now does what a deployment needs of one: it starts a new worker when one dies,
  restarts them all, one at a time, on SIGHUP (new code, no dropped port), and
  adds or removes one on SIGTTIN or SIGTTOU. One package fewer to install and to
  keep in step, and the same signals an operator already knows.
- uvloop and httptools, named on the command line (workbook/serving.py
  `server_arguments`): a missing one stops the start instead of silently serving
  with the slower asyncio loop and h11 parser.
- the stage's shutdown grace and trusted proxies, read from its settings and passed
  to uvicorn, as `make serve` does: the app cannot set its own server's options.
- the Celery worker and Celery beat, each a process of its own (workbook/stack.py).
- PostgreSQL and Redis from WORKBOOK_DATABASE_URL and WORKBOOK_REDIS_URL, or the
  local servers `make doctor` looks for. The broker is that Redis, or RabbitMQ
  (`--broker rabbitmq`: WORKBOOK_BROKER_URL, or the local server as guest).
- the workbook's mail server and fake payment provider, as under `make serve`: the
  shop's email and card payments need somewhere to go on a laptop.

Every API process is told how many there are (WORKBOOK_WORKERS), so its start-up
check that all their connection pools fit PostgreSQL's max_connections counts
them all. Ctrl-C stops every process the command started.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from workbook.doctor import DEFAULT_POSTGRES, DEFAULT_REDIS
from workbook.mail_server import MAILBOX
from workbook.stack import Stack, running_stack
from workbook.stages import ROOT, Stage

BROKERS = ("redis", "rabbitmq")
DEFAULT_RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
# The doctor's Redis server, but its database 0: the services tier empties the doctor's own database.
DEFAULT_SERVED_REDIS = urlsplit(DEFAULT_REDIS)._replace(path="/0").geturl()


def service_urls(broker: str) -> tuple[str, str, str | None]:
    """The database, the Redis and the broker to serve with; None for the broker means that Redis."""
    if broker not in BROKERS:
        raise LookupError(f"no broker {broker!r}: choose {' or '.join(BROKERS)}")
    database_url = os.environ.get("WORKBOOK_DATABASE_URL", DEFAULT_POSTGRES)
    redis_url = os.environ.get("WORKBOOK_REDIS_URL", DEFAULT_SERVED_REDIS)
    broker_url = os.environ.get("WORKBOOK_BROKER_URL", DEFAULT_RABBITMQ) if broker == "rabbitmq" else None
    return database_url, redis_url, broker_url


@contextmanager
def serving_in_production(
    stage: Stage,
    *,
    workers: int,
    broker: str = "redis",
    port: int | None = None,
    host: str = "127.0.0.1",
    mailbox: Path = MAILBOX,
    echo: Callable[[str], None] | None = None,
) -> Iterator[Stack]:
    """`stage` served by `workers` API processes, a Celery worker and beat, on the real services."""
    database_url, redis_url, broker_url = service_urls(broker)
    # A release step: every tenant's schema to the newest migration before any process
    # starts, which then only checks that it is there and serves no schema behind the code.
    migrated_first = migrate(stage, database_url)
    with running_stack(
        stage,
        extra_env=migrated_first,
        port=port,
        host=host,
        redis_url=redis_url,
        database_url=database_url,
        broker_url=broker_url,
        api_workers=workers,
        mailbox=mailbox,
        echo=echo,
    ) as stack:
        yield stack


def migrate(stage: Stage, database_url: str) -> dict[str, str]:
    """Run a stage's `make migrate` on `database_url`; the settings its processes then start with.

    A stage without migrations (migrate.py) creates its tables itself at start-up: nothing to run.
    """
    if not (stage.directory / "migrate.py").is_file():
        return {}
    command = [sys.executable, "-m", f"lessons.{stage.package}.migrate", "upgrade"]
    subprocess.run(command, cwd=ROOT, env={**os.environ, "WORKBOOK_DATABASE_URL": database_url}, check=True)
    return {"WORKBOOK_MIGRATE_AT_STARTUP": "false"}


def shown_url(url: str) -> str:
    """A service's URL as it may be printed: its password masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()

"""A stage's whole stack for end-to-end tests, on either tier.

The stack is what `make serve` runs (workbook/stack.py): broker, mail server, Celery
worker and beat, the fake payment provider and the app in uvicorn, each its own
process. On the embedded tier they share a SQLite file and the embedded broker; on
the services tier (--services), the test Redis and a fresh PostgreSQL database.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workbook.databases import emptied_redis
from workbook.databases import fresh_postgres_database as postgres_database
from workbook.doctor import service_urls
from workbook.stack import Stack, running_stack
from workbook.stages import Stage


def tiers(config) -> list[str]:
    """The tiers a module's `stack` runs on: the embedded one, and with --services the real services too."""
    return ["embedded", "services"] if config.getoption("services") else ["embedded"]


@contextmanager
def stack_on(services: bool, stage: Stage, mailbox: Path, extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    """`stage`'s stack, started on the chosen tier and stopped afterwards; the test Redis emptied around it."""
    if not services:
        with running_stack(stage, mailbox=mailbox, extra_env=extra_env) as running:
            yield running
        return
    redis_url = service_urls()[1]
    with (
        emptied_redis(redis_url),
        postgres_database() as database_url,
        running_stack(
            stage, mailbox=mailbox, extra_env=extra_env, redis_url=redis_url, database_url=database_url
        ) as running,
    ):
        yield running

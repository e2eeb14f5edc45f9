"""A stage's whole stack for end-to-end tests, on either tier.

The stack is what `make serve` runs (workbook/stack.py): broker, mail server, Celery
worker and beat, the fake payment provider and the app in uvicorn, each its own
process. On the embedded tier they share a SQLite file and the embedded broker; on
the services tier (--services), the test Redis and a fresh PostgreSQL database
(workbook/service_tier.py, which `make e2e SERVICES=1` uses too).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workbook.service_tier import emptied_test_redis, postgres_database
from workbook.stack import Stack, running_stack
from workbook.stages import Stage

__all__ = ["postgres_database", "stack_on", "tiers"]


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
    with (
        emptied_test_redis() as redis_url,
        postgres_database() as database_url,
        running_stack(
            stage, mailbox=mailbox, extra_env=extra_env, redis_url=redis_url, database_url=database_url
        ) as running,
    ):
        yield running

"""A stage's whole stack for end-to-end tests, on either tier.

The stack is what `make serve` runs (workbook/stack.py): broker, mail server, Celery
worker and beat, the fake payment provider and the app in uvicorn, each its own
process. On the embedded tier they share a SQLite file and the embedded broker; on
the services tier (--services), the test Redis and a fresh PostgreSQL database
(workbook/service_tier.py, which `make e2e SERVICES=1` uses too).
"""

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import httpx2

from workbook.mail_server import messages, read_message
from workbook.service_tier import emptied_test_redis, postgres_database
from workbook.stack import Stack, running_stack
from workbook.stages import Stage

__all__ = ["postgres_database", "stack_on", "tiers"]


def tiers(config) -> list[str]:
    """The tiers a module's `stack` runs on: the embedded one, and with --services the real services too."""
    return ["embedded", "services"] if config.getoption("services") else ["embedded"]


@contextmanager
def stack_on(
    services: bool, stage: Stage, mailbox: Path, extra_env: dict[str, str] | None = None, api_processes: int = 1
) -> Iterator[Stack]:
    """`stage`'s stack, started on the chosen tier and stopped afterwards; the test Redis emptied around it.

    With `api_processes` above 1, that many uvicorn processes serve the app, each on its own port (`Stack.app_urls`).
    """
    if not services:
        with running_stack(stage, mailbox=mailbox, extra_env=extra_env, api_processes=api_processes) as running:
            yield running
        return
    with (
        emptied_test_redis() as redis_url,
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


def welcome_email(mailbox: Path, address: str, timeout: float = 30) -> EmailMessage:
    """The first message to `address`, once the stack's worker has sent it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in messages(mailbox):
            message = read_message(path)
            if message["To"] == address:
                return message
        time.sleep(0.1)
    raise AssertionError(f"no email to {address} arrived within {timeout} s")


def new_customer() -> dict:
    """A customer of this test alone: the stack, and its database, serve the whole module."""
    return {"email": f"ada-{uuid.uuid4().hex[:8]}@example.com", "name": "Ada", "password": "correct horse battery"}


def register_and_confirm(http: httpx2.Client, mailbox: Path, customer: dict) -> None:
    """Register `customer` through a stack's API and confirm the email with the code its welcome email carries."""
    registered = http.post("/users/register", json=customer)
    assert registered.status_code == 202, registered.text
    body = welcome_email(mailbox, customer["email"]).get_body(("plain",))
    assert body is not None, "the welcome email has a plain text part"
    code = max(body.get_content().splitlines(), key=len)  # the one long line
    confirmed = http.post("/users/confirm-email", json={"code": code})
    assert confirmed.status_code == 204, confirmed.text

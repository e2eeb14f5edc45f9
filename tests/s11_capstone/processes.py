"""Stage 11 served by three API processes, for the tests of guarantees that must hold across them.

The whole stack runs as in production (workbook/stack.py): broker, mail server, a Celery worker
and beat, and three uvicorn processes on ports of their own that share nothing but the database,
Redis and the broker. On the embedded tier that is a SQLite file and the embedded Redis; with
--services, a fresh PostgreSQL database and the test Redis. A test sends each request to the
process it chooses, so "every process" means each of the three, asked in turn.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TypeVar

import httpx2

from workbook.exercises import child_process_env
from workbook.stages import get_stage

from ..auth_helpers import ACME, ADMIN_PASSWORD, bearer
from ..stack_tiers import stack_on

PROCESSES = 3
# Each process keeps a product in its own memory for a minute: longer than any test here, so a
# copy that is not dropped when the stock changes is still served when the test reads it.
ENV = {
    "WORKBOOK_BCRYPT_ROUNDS": "4",
    "WORKBOOK_PRODUCT_CACHE_LOCAL_SECONDS": "60",
    "WORKBOOK_WELCOME_RELAY_SECONDS": "3600",
    # The tests poll each process for a few seconds: far more requests than a client's usual minute.
    "WORKBOOK_RATE_LIMIT_PER_MINUTE": "100000",
}
# The broadcast that reaches the other processes takes milliseconds; a loaded machine, longer.
SETTLE_SECONDS = 3.0

T = TypeVar("T")


@contextmanager
def three_processes(services: bool, scratch: Path) -> Iterator[list[httpx2.Client]]:
    """A client for each API process, in the order the stack started them.

    Each process runs the exercise files these tests were asked to check (`--exercise-source`).
    """
    (mailbox := scratch / "mailbox").mkdir()
    (hook := scratch / "exercise-source").mkdir()
    env = ENV | child_process_env(hook)
    with stack_on(services, get_stage("11"), mailbox, env, api_processes=PROCESSES) as stack, ExitStack() as clients:
        yield [clients.enter_context(httpx2.Client(base_url=url, timeout=30)) for url in stack.app_urls]


def admin_of_acme(client: httpx2.Client) -> dict:
    """The demo admin of acme, logged in through `client`'s process: bearer headers for acme."""
    response = client.post("/token", data={"username": "admin@acme.example", "password": ADMIN_PASSWORD}, headers=ACME)
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


def stock_in_each(clients: list[httpx2.Client], sku: str) -> list[int]:
    """The stock of acme's `sku` as each process serves it (from its cache, if it holds a copy)."""
    answers = [client.get(f"/products/{sku}", headers=ACME) for client in clients]
    assert all(answer.status_code == 200 for answer in answers), [answer.text for answer in answers]
    return [answer.json()["stock"] for answer in answers]


def settled(read: Callable[[], T], wanted: T) -> T:
    """What `read` answers once it answers `wanted`, or its last answer after SETTLE_SECONDS."""
    deadline = time.monotonic() + SETTLE_SECONDS
    seen = read()
    while seen != wanted and time.monotonic() < deadline:
        time.sleep(0.05)
        seen = read()
    return seen

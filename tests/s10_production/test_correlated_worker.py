"""One registration, followed across processes: every JSON line the app writes for it and every line
the Celery worker writes while sending its welcome email carry the request's correlation id; and a
payment's, whose call takes the id to the payment provider.

The whole stack runs as `make serve` runs it (workbook/stack.py): broker, mail server, a real
worker process, beat, and the app in uvicorn, each a process of its own; on the embedded broker
and a SQLite file, and with --services a second time, on real Redis and a fresh PostgreSQL database.
"""

import time
import uuid
from collections.abc import Iterator

import httpx2
import pytest

from workbook.mail_server import messages, read_message
from workbook.stack import Stack
from workbook.stages import get_stage

from ..auth_helpers import ACME, ADMIN_PASSWORD, bearer
from ..payment_helpers import CARD
from ..stack_tiers import stack_on, tiers
from .log_lines import events, json_lines

HEADER = "X-Correlation-ID"
# DEBUG: the SQL timings too. The outbox relay far off, so no task of its own runs meanwhile.
QUIET_DEBUG = {"WORKBOOK_LOG_LEVEL": "DEBUG", "WORKBOOK_WELCOME_RELAY_SECONDS": "3600"}


def pytest_generate_tests(metafunc):
    if "stack" in metafunc.fixturenames:
        metafunc.parametrize("stack", tiers(metafunc.config), indirect=True, scope="module")


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory) -> Iterator[Stack]:
    mailbox = tmp_path_factory.mktemp("mailbox")
    with stack_on(request.param == "services", get_stage("10"), mailbox, QUIET_DEBUG) as running:
        yield running


def wait_for(check, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def mail_to(stack: Stack, address: str) -> list:
    return [m for m in map(read_message, messages(stack.mail.directory)) if m["To"] == address]


def quiet_from_here(stack: Stack) -> tuple[int, int]:
    """How many lines the app and the worker have written, once the app has logged everything before now.

    A request of the test's own is logged to the end (its access line) before the count is
    taken, so the lines of earlier requests (the stack's start-up checks) cannot follow it.
    """
    marker = f"marker-{uuid.uuid4().hex[:8]}"
    httpx2.get(f"{stack.app_url}/health", headers={HEADER: marker}, timeout=30)

    def logged() -> int:
        lines = stack.lines("app")
        done = any(marker in line and "uvicorn.access" in line for line in lines)
        return len(lines) if done else 0

    return wait_for(logged, "the marker request's access line"), len(stack.lines("worker"))


def test_every_line_of_a_registration_in_the_app_and_the_worker_carries_its_id(stack):
    email, correlation_id = f"ada-{uuid.uuid4().hex[:8]}@example.com", f"register-{uuid.uuid4().hex[:8]}"
    app_mark, worker_mark = quiet_from_here(stack)
    response = httpx2.post(
        f"{stack.app_url}/users/register",
        json={"email": email, "name": "Ada", "password": "correct horse battery"},
        headers={"X-Tenant-ID": "acme", HEADER: correlation_id},
        timeout=30,
    )
    assert response.status_code == 202 and response.headers[HEADER] == correlation_id
    wait_for(lambda: mail_to(stack, email), "the welcome email")

    def task_finished() -> list[dict]:
        lines = json_lines("\n".join(stack.lines("worker")[worker_mark:]))
        return lines if any("succeeded in" in line["event"] for line in lines) else []

    worker_lines = wait_for(task_finished, "the worker's 'succeeded' line")
    app_lines = json_lines("\n".join(stack.lines("app")[app_mark:]))

    app_events = set(events(app_lines))
    assert {"user.registered", "sql.statement", "request.answered"} <= app_events, app_events
    assert any(line["logger"] == "uvicorn.access" for line in app_lines), "uvicorn's access line too"
    assert any(line["thread"].startswith("AnyIO worker thread") for line in app_lines), "the def route's lines"
    strays = [line for line in app_lines if line.get("correlation_id") != correlation_id]
    assert not strays, f"app lines without the request's id: {strays}"

    # From the main process's "received" line, as the message arrives, to the child's "succeeded".
    assert any(line["event"].endswith("] received") for line in worker_lines), events(worker_lines)
    assert {"welcome.sent", "sql.statement"} <= set(events(worker_lines)), events(worker_lines)
    strays = [line for line in worker_lines if line.get("correlation_id") != correlation_id]
    assert not strays, f"worker lines without the request's id: {strays}"
    assert len({line["task_id"] for line in worker_lines}) == 1, "one task, named in each of its lines"


def test_a_task_queued_outside_any_request_gets_an_id_of_its_own(stack):
    from celery import Celery

    worker_mark = len(stack.lines("worker"))
    client = Celery(broker=stack.env["WORKBOOK_BROKER_URL"], backend=stack.env["WORKBOOK_RESULT_BACKEND"])
    result = client.send_task("lessons.s10_production.tasks.send_welcome_email", args=["acme", 404_404])
    assert result.get(timeout=30) == {"outcome": "no such user", "user_id": 404_404}
    client.close()
    lines = json_lines("\n".join(stack.lines("worker")[worker_mark:]))
    [line] = [line for line in lines if line["event"] == "welcome.no_such_user"]
    assert len(line["correlation_id"]) == 32, "a fresh id binds the task's own lines together"
    assert {line.get("correlation_id") for line in lines} == {line["correlation_id"]}, (
        "one id from the 'received' line to the 'succeeded' line"
    )


def test_a_payment_s_lines_and_the_provider_s_request_carry_the_id(stack):
    """The app's call to the payment provider, another process's service, takes the id with it."""
    with httpx2.Client(base_url=stack.app_url, headers=ACME, timeout=30) as http:
        form = {"username": "admin@acme.example", "password": ADMIN_PASSWORD}
        token = http.post("/token", data=form).json()["access_token"]
        app_mark, _ = quiet_from_here(stack)
        key = {"Idempotency-Key": f"order-{uuid.uuid4().hex[:12]}", HEADER: "pay-mug-1"}
        response = http.post("/payments", json=CARD, headers={**bearer(token), **key})
    assert response.status_code == 201, response.text
    assert stack.payments is not None
    assert stack.payments.ledger.headers[-1][HEADER.lower()] == "pay-mug-1", "the provider received the id"

    def logged_to_the_end() -> list[dict]:
        lines = json_lines("\n".join(stack.lines("app")[app_mark:]))
        return lines if any(line["logger"] == "uvicorn.access" for line in lines) else []

    lines = wait_for(logged_to_the_end, "the payment's access line")
    assert {"payment.charged", "request.answered"} <= set(events(lines)), events(lines)
    assert any(line["logger"] == "httpx2" for line in lines), "the HTTP client's own line about the call"
    assert all(line.get("correlation_id") == "pay-mug-1" for line in lines), lines

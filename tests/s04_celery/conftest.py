import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest
from celery.result import EagerResult
from fastapi.testclient import TestClient

from lessons.s04_celery.dependencies import get_welcome_queue
from lessons.s04_celery.main import app
from lessons.s04_celery.settings import get_settings
from lessons.s04_celery.tasks import send_welcome_email
from lessons.s04_celery.worker import celery_app, worker_resources
from workbook.mail_server import MailServer, messages, read_message
from workbook.stack import Stack
from workbook.stages import get_stage

from ..stack_tiers import stack_on
from ..stage_apps import StageApp

ACME = {"X-Tenant-ID": "acme"}
GLOBEX = {"X-Tenant-ID": "globex"}
FINISHED = ("SUCCESS", "FAILURE")
# Small retry delays, so a test sees several retries in well under a second.
FAST_RETRIES = {
    "WORKBOOK_WELCOME_RETRY_BASE_SECONDS": "0.05",
    "WORKBOOK_WELCOME_RETRY_CAP_SECONDS": "0.2",
}


STAGE = StageApp(app, "lessons.s04_celery.main:app", get_settings, caches=(worker_resources,))


@pytest.fixture
def client(stage_env) -> Iterator[TestClient]:
    yield from STAGE.serve()


@pytest.fixture
def file_client(stage_env, monkeypatch, tmp_path, services) -> Iterator[TestClient]:
    """The app on a SQLite file: other connections see only what was committed."""
    if not services:
        monkeypatch.setenv("WORKBOOK_DATABASE_URL", f"sqlite:///{tmp_path}/shop.db")
    yield from STAGE.serve()


@pytest.fixture
def queued(client) -> list[tuple[str, int]]:
    """Replace the welcome-email queue with a recorder: the route runs, no task is sent."""
    calls: list[tuple[str, int]] = []

    def record(tenant_id: str, user_id: int) -> str:
        calls.append((tenant_id, user_id))
        return f"task-{len(calls)}"

    app.dependency_overrides[get_welcome_queue] = lambda: record
    return calls


def register(client, email: str, name: str = "Ada", headers=ACME):
    return client.post("/users/register", json={"email": email, "name": name}, headers=headers)


@pytest.fixture
def mail_server(tmp_path) -> Iterator[MailServer]:
    """The workbook's SMTP server, in this process, storing mail under tmp_path."""
    with MailServer(tmp_path / "mailbox", announce=lambda line: None) as server:
        yield server


def mail_to(directory: Path, address: str) -> list:
    return [message for message in map(read_message, messages(directory)) if message["To"] == address]


@pytest.fixture
def eager(monkeypatch, tmp_path, mail_server) -> Iterator[TestClient]:
    """The app with Celery in eager mode: .delay() runs the task right here, at once.

    The task builds its own engine (the worker's resources), so the database is
    a file both the app and the task open; an in-memory SQLite would give each
    of them a database of its own.
    """
    monkeypatch.setenv("WORKBOOK_DATABASE_URL", f"sqlite:///{tmp_path}/shop.db")
    monkeypatch.setenv("WORKBOOK_SMTP_PORT", str(mail_server.port))
    for name, value in FAST_RETRIES.items():
        monkeypatch.setenv(name, value)
    celery_app.conf.task_always_eager = True
    try:
        yield from STAGE.serve()
    finally:
        celery_app.conf.task_always_eager = False


@pytest.fixture
def eager_results(eager) -> list[EagerResult]:
    """The results of the tasks the app queues in eager mode, as .delay() answered them.

    (GET /tasks/{id} cannot report them: the in-memory result store belongs to the
    thread that ran the task, and FastAPI runs each sync route in a pool thread.)
    """
    results: list[EagerResult] = []

    def queue(tenant_id: str, user_id: int) -> str:
        results.append(send_welcome_email.delay(tenant_id, user_id))
        return results[-1].id

    app.dependency_overrides[get_welcome_queue] = lambda: queue
    return results


# --- a real worker process -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory) -> Iterator[Stack]:
    """Broker, mail server, a Celery worker process and the app (uvicorn), for the whole module.

    Embedded (fakeredis over TCP, SQLite file) by default; with --services the
    same tests run on the real Redis of WORKBOOK_TEST_REDIS_URL and a fresh
    PostgreSQL database.
    """
    with stack_on(
        request.config.getoption("services"), get_stage("04"), tmp_path_factory.mktemp("mailbox"), FAST_RETRIES
    ) as running:
        yield running


def wait_for_state(
    url: str, task_id: str, done: Callable[[dict], bool] = lambda s: s["state"] in FINISHED, timeout: float = 20
) -> tuple[dict, list[tuple[str, int | None]]]:
    """Poll GET /tasks/{task_id} until `done`; answers the last status and every (state, retries) seen."""
    seen: list[tuple[str, int | None]] = []
    deadline = time.monotonic() + timeout
    while True:
        status = httpx2.get(f"{url}/tasks/{task_id}").json()
        if not seen or seen[-1] != (status["state"], status["retries"]):
            seen.append((status["state"], status["retries"]))
        if done(status) or time.monotonic() > deadline:
            return status, seen
        time.sleep(0.05)

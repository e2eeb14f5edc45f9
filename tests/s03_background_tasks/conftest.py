import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from fastapi.testclient import TestClient
from PIL import Image

from lessons.s03_background_tasks.jobs import get_jobs
from lessons.s03_background_tasks.main import app
from lessons.s03_background_tasks.media import LOCKS_DIR
from lessons.s03_background_tasks.settings import get_settings
from workbook.serving import free_port
from workbook.stages import ROOT

from ..stage_apps import StageApp, count_rows

APP = "lessons.s03_background_tasks.main:app"

ACME = {"X-Tenant-ID": "acme"}
GLOBEX = {"X-Tenant-ID": "globex"}
ADMIN = {**ACME, "X-API-Key": "acme-admin-key"}
ADA = {"email": "ada@example.com", "name": "Ada Lovelace"}


def png(width: int = 1200, height: int = 800, colour: str = "teal") -> bytes:
    """A real PNG image of the given size, made in memory."""
    buffer = BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(
    client: TestClient, data: bytes, user_id: int = 1, headers=ACME, filename="me.png", content_type="image/png"
):
    return client.post(
        f"/users/{user_id}/profile-image", files={"file": (filename, data, content_type)}, headers=headers
    )


STAGE = StageApp(app, "lessons.s03_background_tasks.main:app", get_settings)


# The same, as a `with` block, for tests that start the app after changing a setting.
started = contextmanager(STAGE.serve)


@pytest.fixture
def client(stage_env) -> Iterator[TestClient]:
    yield from STAGE.serve()


@pytest.fixture
def ada(client) -> TestClient:
    """The client, with Ada registered as acme's user 1."""
    assert client.post("/users", json=ADA, headers=ACME).status_code == 201
    return client


@pytest.fixture
def media_root(client) -> Path:
    return client.app_state["images"].root


@pytest.fixture
def media_files(media_root) -> Callable[[], list[str]]:
    """Every file under the media folder, as paths relative to it; the per-user lock files are not media."""

    def files() -> list[str]:
        names = (path.relative_to(media_root).as_posix() for path in media_root.rglob("*") if path.is_file())
        return sorted(name for name in names if not name.startswith(f"{LOCKS_DIR}/"))

    return files


@pytest.fixture
def rows(client):
    """Count the rows of a table in one tenant's schema: rows(User) or rows(User, tenant="globex")."""
    return partial(count_rows, client)


class RecordedJobs:
    """Stands in for Jobs: remembers what was scheduled, with its arguments, and runs nothing."""

    def __init__(self) -> None:
        self.scheduled: list[tuple[Callable[..., Any], tuple, dict]] = []

    def add(self, job: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        self.scheduled.append((job, args, kwargs))

    @property
    def names(self) -> list[str]:
        return [job.__name__ for job, _, _ in self.scheduled]


@pytest.fixture
def recorded_jobs(client) -> RecordedJobs:
    """Override OUR dependency, get_jobs: this one FastAPI does consult."""
    recorder = RecordedJobs()
    app.dependency_overrides[get_jobs] = lambda: recorder
    return recorder


def large_png(width: int = 4000, height: int = 3000) -> bytes:
    """A big but well-compressed PNG (tens of KB): decoding and resizing it takes a noticeable time."""
    ramp = Image.linear_gradient("L").resize((width, height))
    picture = Image.merge(
        "RGB", (ramp, ramp.transpose(Image.Transpose.ROTATE_180), Image.new("L", (width, height), 90))
    )
    buffer = BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


@contextmanager
def served_in_a_thread(asgi_app) -> Iterator[str]:
    """Serve the app object with uvicorn, in this process, so dependency_overrides still apply.

    log_config=None leaves logging alone: uvicorn's records reach the root logger
    (and pytest's caplog) instead of a console handler.
    """
    get_settings.cache_clear()
    server = uvicorn.Server(uvicorn.Config(asgi_app, host="127.0.0.1", port=free_port(), log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        get_settings.cache_clear()


@contextmanager
def served_in_a_process(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen, str]]:
    """Serve the stage with uvicorn in a child process, which the caller may kill."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", APP, "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None and time.monotonic() < deadline, "the app did not start"
            try:
                httpx2.get(f"{url}/health", timeout=1)
                break
            except httpx2.TransportError:
                time.sleep(0.05)
        yield process, url
    finally:
        process.kill()
        process.communicate(timeout=10)

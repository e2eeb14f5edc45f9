import asyncio
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
from fastapi.testclient import TestClient

from lessons.s05_async_and_sync.main import app
from lessons.s05_async_and_sync.models import User
from lessons.s05_async_and_sync.settings import get_settings
from workbook import bench
from workbook.stages import get_stage

from ..stage_apps import StageApp

ACME = {"X-Tenant-ID": "acme"}
GLOBEX = {"X-Tenant-ID": "globex"}
INDEXED = get_stage("05")  # the index entry the benchmark serves


STAGE = StageApp(app, "lessons.s05_async_and_sync.main:app", get_settings)


@pytest.fixture
def client(stage_env) -> Iterator[TestClient]:
    yield from STAGE.serve()


@pytest.fixture
def lab_client(stage_env, monkeypatch) -> Iterator[TestClient]:
    """The app with the lab's blocking routes turned on, as the notebook and `make bench` run it."""
    monkeypatch.setenv("WORKBOOK_LAB_BLOCKING_ROUTES", "true")
    yield from STAGE.serve()


@pytest.fixture
def served(stage_env) -> Callable[..., AbstractContextManager[str]]:
    """Serve the stage with uvicorn, over real HTTP: `with served(thread_limit="4") as url: ...`."""

    def start(**settings: str) -> AbstractContextManager[str]:
        return bench.serving(INDEXED, **settings)

    return start


def add_users(client: TestClient, tenant: str, *emails: str) -> None:
    """Store users straight through the tenant's sync session (the blocking engine)."""
    with client.app_state["tenants"].get(tenant).sessions() as session:
        session.add_all(User(email=email, name=email.split("@")[0].title()) for email in emails)
        session.commit()


def timed_concurrently(url: str, path: str, count: int, **params) -> float:
    """Seconds for `count` truly concurrent requests to the served app (an AsyncClient and gather)."""

    async def fire() -> float:
        async with bench.client_for(url) as http:
            return await bench.concurrently(http, path, count, **params)

    return asyncio.run(fire())

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select

from lessons.s02_advanced_dependencies.main import app
from lessons.s02_advanced_dependencies.settings import get_settings

ACME = {"X-Tenant-ID": "acme"}
GLOBEX = {"X-Tenant-ID": "globex"}
RATE_LIMIT = 3


def serve(**options) -> Iterator[TestClient]:
    get_settings.cache_clear()  # read the WORKBOOK_* variables the fixtures just set
    with TestClient(app, **options) as client:
        yield client
    app.dependency_overrides.clear()
    get_settings.cache_clear()


@pytest.fixture
def client(stage_env) -> Iterator[TestClient]:
    yield from serve()


@pytest.fixture
def limited_client(stage_env, monkeypatch) -> Iterator[TestClient]:
    """The app with a rate limit of RATE_LIMIT requests a minute, so tests reach it quickly."""
    monkeypatch.setenv("WORKBOOK_RATE_LIMIT_PER_MINUTE", str(RATE_LIMIT))
    yield from serve()


@pytest.fixture
def rows(client):
    """Count the rows of a table in one tenant's schema, straight from the app's database."""

    def count(model, tenant: str = "acme") -> int:
        with client.app_state["tenants"].get(tenant).sessions() as session:
            return session.scalar(select(func.count()).select_from(model))

    return count


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine sends while the test runs."""
    sent: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield sent
    event.remove(Engine, "before_cursor_execute", record)


def run_redis(client: TestClient, command: str, *args):
    """Run one command on the app's own Redis client, in the app's event loop."""
    return client.portal.call(getattr(client.app_state["redis"], command), *args)

from collections.abc import Iterator
from functools import partial

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from lessons.s02_advanced_dependencies.main import app
from lessons.s02_advanced_dependencies.settings import get_settings

from ..stage_apps import StageApp, count_rows

ACME = {"X-Tenant-ID": "acme"}
GLOBEX = {"X-Tenant-ID": "globex"}
RATE_LIMIT = 3


STAGE = StageApp(app, "lessons.s02_advanced_dependencies.main:app", get_settings)


@pytest.fixture
def client(stage_env) -> Iterator[TestClient]:
    yield from STAGE.serve()


@pytest.fixture
def limited_client(stage_env, monkeypatch) -> Iterator[TestClient]:
    """The app with a rate limit of RATE_LIMIT requests a minute, so tests reach it quickly."""
    monkeypatch.setenv("WORKBOOK_RATE_LIMIT_PER_MINUTE", str(RATE_LIMIT))
    yield from STAGE.serve()


@pytest.fixture
def rows(client):
    """Count the rows of a table in one tenant's schema: rows(User) or rows(User, tenant="globex")."""
    return partial(count_rows, client)


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine sends while the test runs."""
    sent: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield sent
    event.remove(Engine, "before_cursor_execute", record)

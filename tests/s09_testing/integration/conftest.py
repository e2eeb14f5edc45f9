"""One test body, once per backend: the embedded ones always, the real ones with --services.

    embedded   in-memory SQLite and fakeredis: what every learner's machine has
    services   PostgreSQL and Redis (a fresh database per test, Redis emptied),
               only when pytest runs with --services (`make test-services`)

The real backend is added to the parameters only with --services, rather than
skipped without it: a plain `make test` then lists no skipped tests.
"""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from ...stage_apps import StageApp

BACKENDS = ["embedded", "services"]


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        real = metafunc.config.getoption("services")
        backends = [name for name in BACKENDS if real or name == "embedded"]
        metafunc.parametrize("backend", backends, indirect=True)


@pytest.fixture
def backend(request, monkeypatch) -> str:
    """Point the app at this parameter's database and Redis, through its WORKBOOK_* settings."""
    if request.param == "services":
        monkeypatch.setenv("WORKBOOK_DATABASE_URL", request.getfixturevalue("database_url"))
        monkeypatch.setenv("WORKBOOK_REDIS_URL", request.getfixturevalue("redis_url"))
    else:
        monkeypatch.setenv("WORKBOOK_DATABASE_URL", "sqlite://")
        monkeypatch.delenv("WORKBOOK_REDIS_URL", raising=False)
    monkeypatch.setenv("WORKBOOK_BCRYPT_ROUNDS", "4")  # a real bcrypt hash, at its lowest cost
    return request.param


@pytest.fixture
def shop_on(backend, stage_app: StageApp) -> Iterator[TestClient]:
    """The app on this parameter's backends, its lifespan running."""
    yield from stage_app.serve()

"""Starting a stage's app in tests, written once for every stage.

Each stage's conftest.py wraps its own app in a StageApp; the helpers here reach
the app's objects through the TestClient (`client.app_state[...]`), so nothing in
this module imports a stage.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from workbook.serving import running


@dataclass(frozen=True)
class StageApp:
    """One stage's app, as its fixtures and tests start it."""

    app: FastAPI
    import_path: str  # where uvicorn finds the same app, e.g. "lessons.s06_oauth2_jwt.main:app"
    get_settings: Callable[[], Any]
    # Other cached providers to forget between tests (stage 04's worker resources, say).
    caches: tuple[Callable[[], Any], ...] = field(default=())

    def _forget_cached_settings(self) -> None:
        # The fixtures set WORKBOOK_* variables per test: the next call must read them afresh.
        for cached in (self.get_settings, *self.caches):
            cached.cache_clear()

    def serve(self, **options) -> Iterator[TestClient]:
        """The app in a TestClient, its lifespan running; overrides are cleared afterwards."""
        self._forget_cached_settings()
        with TestClient(self.app, **options) as client:
            yield client
        self.app.dependency_overrides.clear()
        self._forget_cached_settings()

    @contextmanager
    def running(self) -> Iterator[str]:
        """The app served by uvicorn on a real socket; yields its base URL."""
        self._forget_cached_settings()
        try:
            with running(self.import_path) as url:
                yield url
        finally:
            self._forget_cached_settings()


def run_redis(client: TestClient, command: str, *args):
    """Run one command on the app's own Redis client, in the app's event loop."""
    return client.portal.call(getattr(client.app_state["redis"], command), *args)


def count_rows(client: TestClient, model, tenant: str = "acme") -> int:
    """Count the rows of a table in one tenant's schema, straight from the app's database."""
    with client.app_state["tenants"].get(tenant).sessions() as session:
        return session.scalar(select(func.count()).select_from(model))

"""Starting a stage's app in tests, written once for every stage.

A stage's conftest.py, or a module of tests shared by several stages, hands its app over
as a StageApp; the helpers here reach the app's objects through the TestClient
(`client.app_state[...]`), so nothing in this module imports a stage by name. Shared
tests find their stages in the index (workbook.stages) by what each stage's API
exposes, so a stage added later is tested without a new file.
"""

import importlib
import subprocess
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from workbook.serving import running
from workbook.stages import Stage, load_stages


@dataclass(frozen=True)
class StageApp:
    """One stage's app, as its fixtures and tests start it."""

    app: FastAPI
    import_path: str  # where uvicorn finds the same app, e.g. "lessons.s06_oauth2_jwt.main:app"
    get_settings: Callable[[], Any] | None  # None for a stage without settings (stage 00)
    # Other cached providers to forget between tests (stage 04's worker resources, say).
    caches: tuple[Callable[[], Any], ...] = field(default=())
    number: str | None = None  # the stage's number, where the index provided the app

    def module(self, name: str) -> ModuleType:
        """One of the stage's own modules ("permissions", "models"), for a test that patches or reads it."""
        package = self.import_path.split(":")[0].rpartition(".")[0]
        return importlib.import_module(f"{package}.{name}")

    def has_setting(self, name: str) -> bool:
        """Whether the stage's Settings has the field `name` (WORKBOOK_<NAME>)."""
        return self.get_settings is not None and name in self.module("settings").Settings.model_fields

    def _forget_cached_settings(self) -> None:
        # The fixtures set WORKBOOK_* variables per test: the next call must read them afresh.
        for cached in (self.get_settings, *self.caches):
            if cached is not None:
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


def stage_app_for(stage: Stage) -> StageApp:
    """Any stage's StageApp, found by the names every stage uses: `main.app`, `settings.get_settings`."""
    package = f"lessons.{stage.package}"
    app = importlib.import_module(f"{package}.main").app
    has_settings = (stage.directory / "settings.py").exists()
    get_settings = importlib.import_module(f"{package}.settings").get_settings if has_settings else None
    return StageApp(app, stage.app, get_settings, number=stage.number)


def stages_exposing(*paths: str, modules: Iterable[str] = (), settings: Iterable[str] = ()) -> list[Stage]:
    """The stages whose API has every one of `paths`, read from each stage's own OpenAPI schema,
    whose folder carries every one of `modules` ("cache_latency") and whose Settings has every one
    of `settings` ("jwt_library"): a feature a later stage no longer carries leaves its tests by
    the same rule that brought them."""
    found = []
    for stage in load_stages():
        stage_app = stage_app_for(stage)
        if (
            set(paths) <= stage_app.app.openapi()["paths"].keys()
            and all((stage.directory / f"{module}.py").is_file() for module in modules)
            and all(stage_app.has_setting(name) for name in settings)
        ):
            found.append(stage)
    return found


def stage_params(*paths: str, modules: Iterable[str] = (), settings: Iterable[str] = ()) -> list:
    """One pytest parameter per stage exposing `paths` (and carrying `modules` and `settings`),
    its id the stage's number, so that a failure names the stage: `test_x[07]`."""
    chosen = stages_exposing(*paths, modules=modules, settings=settings)
    return [pytest.param(stage, id=stage.number) for stage in chosen]


def stage_app_fixture(*paths: str):
    """A `stage_app` fixture that runs a module's tests once for each stage exposing `paths`.

    A test that needs more of the API than its module does narrows it with
    `@pytest.mark.parametrize("stage_app", stage_params(...), indirect=True)`.
    """

    @pytest.fixture(params=stage_params(*paths))
    def stage_app(request) -> StageApp:
        return stage_app_for(request.param)

    return stage_app


def run_redis(client: TestClient, command: str, *args):
    """Run one command on the app's own Redis client, in the app's event loop."""
    return client.portal.call(getattr(client.app_state["redis"], command), *args)


def count_rows(client: TestClient, model, tenant: str = "acme") -> int:
    """Count the rows of a table in one tenant's schema, straight from the app's database."""
    with client.app_state["tenants"].get(tenant).sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def stop_supervisor(process: subprocess.Popen) -> None:
    """Stop `uvicorn --workers N` (which stops its workers on SIGTERM), killing it if it will not go."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()

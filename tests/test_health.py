"""GET /health, which every stage has: it answers while the app is up and names the stage, so a
glance shows which stage is being served. It runs against every stage whose API has it."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from .stage_apps import StageApp, stage_app_fixture

stage_app = stage_app_fixture("/health")


@pytest.fixture
def client(stage_env, stage_app: StageApp) -> Iterator[TestClient]:
    yield from stage_app.serve()


def test_health_names_the_stage(client, stage_app):
    assert client.get("/health").json() == {"status": "ok", "stage": stage_app.number}

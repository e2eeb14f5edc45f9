import pytest
from fastapi.testclient import TestClient

from lessons.s01_dependency_injection.main import app
from lessons.s01_dependency_injection.settings import get_settings


@pytest.fixture
def client(stage_env):
    get_settings.cache_clear()  # read the WORKBOOK_* variables stage_env just set
    with TestClient(app) as client:
        yield client
    app.dependency_overrides.clear()
    get_settings.cache_clear()


@pytest.fixture
def rows(client):
    """Count the rows of a table, straight from the database the app uses."""
    from sqlalchemy import func, select

    def count(model) -> int:
        with client.app_state["sessions"]() as session:
            return session.scalar(select(func.count()).select_from(model))

    return count

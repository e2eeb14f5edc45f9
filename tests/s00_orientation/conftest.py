import pytest
from fastapi.testclient import TestClient

from lessons.s00_orientation.main import app


@pytest.fixture
def client():
    with TestClient(app) as client:
        yield client

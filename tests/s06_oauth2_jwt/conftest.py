"""Stage 06's app, handed to the fixtures and helpers every stage with tokens shares
(tests/auth_fixtures.py, auth_helpers.py)."""

import pytest

from lessons.s06_oauth2_jwt.main import app
from lessons.s06_oauth2_jwt.settings import get_settings

# client, limited_client, ada and auth_env, written once for every stage with tokens: pytest offers
# a folder's tests the fixtures its conftest.py holds, imported ones included.
from ..auth_fixtures import *  # noqa: F403
from ..stage_apps import StageApp

STAGE = StageApp(app, "lessons.s06_oauth2_jwt.main:app", get_settings)

# For the tests that start the app themselves, with settings of their own.
serve = STAGE.serve


@pytest.fixture
def stage_app() -> StageApp:
    return STAGE


@pytest.fixture
def stale_token_detail() -> str:
    """What a token issued before its user's last password change gets back."""
    return "The token was issued before a password change; log in again"

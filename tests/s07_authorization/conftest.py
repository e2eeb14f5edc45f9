"""Stage 07's app, for this folder's tests. The fixtures they use (client, ada, grace, admin, ...)
are the ones every stage with tokens shares (tests/auth_fixtures.py); the tests those stages
share are the top-level test_token_*.py and test_roles_*.py, which find this stage in the index
themselves."""

import pytest

from workbook.stages import get_stage

from ..stage_apps import StageApp, stage_app_for

STAGE = stage_app_for(get_stage("07"))


@pytest.fixture
def stage_app() -> StageApp:
    return STAGE

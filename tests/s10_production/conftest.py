"""Stage 10's app, for this folder's tests. The fixtures they use (client, ada, admin, pool_env,
provider, shop, ...) are the ones the later stages share (tests/auth_fixtures.py,
tests/scaling_fixtures.py); the tests those stages share are the top-level test_*.py modules,
which find this stage in the index themselves."""

import pytest

from workbook.stages import get_stage

from ..stage_apps import StageApp, stage_app_for

STAGE = stage_app_for(get_stage("10"))


@pytest.fixture
def stage_app() -> StageApp:
    return STAGE

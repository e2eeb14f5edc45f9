"""Stage 11's app, for this folder's tests. The fixtures they use are the ones the later stages
share (tests/auth_fixtures.py, tests/scaling_fixtures.py); the tests those stages share are the
top-level test_*.py modules, which find this stage in the index themselves."""

import logging
from collections.abc import Iterator

import httpx2
import pytest
import structlog

from workbook.stages import get_stage

from ..stack_tiers import tiers
from ..stage_apps import StageApp, stage_app_for
from .processes import three_processes

STAGE = stage_app_for(get_stage("11"))


@pytest.fixture
def stage_app() -> StageApp:
    return STAGE


def pytest_generate_tests(metafunc):
    """A test asking for `processes` runs on each tier: the embedded one, and with --services the real one."""
    if "processes" in metafunc.fixturenames:
        metafunc.parametrize("processes", tiers(metafunc.config), indirect=True, scope="module")


@pytest.fixture(scope="module")
def processes(request, tmp_path_factory) -> Iterator[list[httpx2.Client]]:
    """Three API processes of one stack (processes.py), shared by the tests of a module."""
    with three_processes(request.param == "services", tmp_path_factory.mktemp("stack")) as clients:
        yield clients


@pytest.fixture(autouse=True)
def forget_json_logging() -> Iterator[None]:
    """The app sets up logging for the whole process (a JSON handler on the root logger):
    after each test, undo it, so the tests of other stages in this process log as they expect."""
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == "storefront-json"]:
        root.removeHandler(handler)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()

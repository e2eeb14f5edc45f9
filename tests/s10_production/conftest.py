"""Stage 10's app, for this folder's tests. The fixtures they use (client, ada, admin, pool_env,
provider, shop, ...) are the ones the later stages share (tests/auth_fixtures.py,
tests/scaling_fixtures.py); the tests those stages share are the top-level test_*.py modules,
which find this stage in the index themselves."""

import logging
import socket
from collections.abc import Iterator

import pytest
import structlog

from workbook.stages import get_stage

from ..stage_apps import StageApp, stage_app_for

STAGE = stage_app_for(get_stage("10"))


@pytest.fixture
def stage_app() -> StageApp:
    return STAGE


@pytest.fixture(autouse=True)
def forget_json_logging() -> Iterator[None]:
    """Stage 10 sets up logging for the whole process (a JSON handler on the root logger):
    after each test, undo it, so the tests of other stages in this process log as they expect."""
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == "storefront-json"]:
        root.removeHandler(handler)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel completes them) and never answers a byte: a hung server."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    """A port where nothing listens: connecting is refused at once, as with a stopped server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

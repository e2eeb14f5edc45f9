"""The whole stack, as `make serve` runs it: broker, mail server, Celery worker and beat, the
fake payment provider, and the app in uvicorn, each its own process (workbook/stack.py).

Started once per module (a few seconds), on the embedded broker and a SQLite file;
with --services a second time, on real Redis and a fresh PostgreSQL database.
"""

from collections.abc import Iterator

import pytest

from workbook.stack import Stack
from workbook.stages import get_stage

from ...stack_tiers import stack_on, tiers


def pytest_generate_tests(metafunc):
    if "stack" in metafunc.fixturenames:
        metafunc.parametrize("stack", tiers(metafunc.config), indirect=True, scope="module")


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory) -> Iterator[Stack]:
    with stack_on(request.param == "services", get_stage("09"), tmp_path_factory.mktemp("mailbox")) as running:
        yield running

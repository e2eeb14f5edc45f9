"""A restart of one API worker under load (workbook/restart_drill.py): SIGTERM fails no request, the
supervisor's replacement serves, and SIGKILL, the contrast, cuts the requests the worker was serving.

One deployment per tier, as `make load LESSON=11` runs it (uvicorn's supervisor and three workers, the
Celery worker, the payment provider): on SQLite and the embedded broker, and with --services on a fresh
PostgreSQL database and the test Redis. Each drill keeps readers on kept-alive and on new connections
and payers with an Idempotency-Key at work, sends the signal to a worker holding payments in flight
(the provider holds its answers until every payer has one waiting),
and keeps the load on until the replacement has accepted a connection; the SIGKILL drill follows on
the same deployment, whose workers are then all fresh ones.
"""

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbook import load
from workbook.restart_drill import RestartResult, restart_drill, workers
from workbook.stages import get_stage

from ..stack_tiers import tiers

pytestmark = pytest.mark.services
STAGE = get_stage("11")
WORKERS = 3
# The supervisor looks at its children every 0.5 s; a new worker imports the app and starts it up in a few
# seconds on an idle machine. 90 s is the bound: on a machine whose cores are busy elsewhere it took 20.
REPLACEMENT_BOUND = 90


def pytest_generate_tests(metafunc):
    if "drills" in metafunc.fixturenames:
        metafunc.parametrize("drills", tiers(metafunc.config), indirect=True, scope="module")


@pytest.fixture(scope="module")
def drills(request, tmp_path_factory) -> Iterator[dict[str, object]]:
    workdir: Path = tmp_path_factory.mktemp("deployment")
    settings = load.deployed_settings()
    with load.deployed(STAGE, workdir, WORKERS, settings, services=request.param == "services") as stack:
        supervisor = stack.services["app"].process.pid
        started_with = workers(supervisor)
        graceful = asyncio.run(restart_drill(stack, signal.SIGTERM))
        after_graceful = workers(supervisor)
        killed = asyncio.run(restart_drill(stack, signal.SIGKILL))
        yield {
            "started with": started_with,
            "SIGTERM": graceful,
            "after SIGTERM": after_graceful,
            "SIGKILL": killed,
            "after SIGKILL": workers(supervisor),
        }


def test_sigterm_to_one_worker_under_load_fails_no_request(drills):
    result: RestartResult = drills["SIGTERM"]
    print(result.summary())
    assert result.failed == 0, f"every request was answered with success:\n{result.summary()}"
    for kind, tally in result.tallies.items():
        assert tally.requests >= 5, f"the {kind} clients kept up a load throughout:\n{result.summary()}"
    assert result.payers_on_old >= 1, f"the signalled worker had a payment in flight:\n{result.summary()}"


def test_the_supervisor_replaces_the_stopped_worker_and_the_replacement_serves(drills):
    result: RestartResult = drills["SIGTERM"]
    assert len(drills["started with"]) == WORKERS
    assert result.old_pid in drills["started with"]
    assert result.old_pid not in drills["after SIGTERM"], "the signalled worker is gone"
    assert result.new_pid in drills["after SIGTERM"], "its replacement is one of the supervisor's workers"
    assert len(drills["after SIGTERM"]) == WORKERS, "as many workers as before"
    assert 0 < result.exit_seconds < result.serving_seconds < REPLACEMENT_BOUND, result.summary()


def test_sigkill_cuts_the_requests_the_worker_was_serving(drills):
    result: RestartResult = drills["SIGKILL"]
    print(result.summary())  # what a client sees: counted, not required to be zero
    # Each payer on the killed worker had a payment in flight there (the provider held its answer):
    # its connection was cut, and the payer resent it.
    assert result.payers_on_old >= 1, result.summary()
    cut = result.tallies["payments"].retried
    assert cut >= result.payers_on_old, f"the kill cut every payment in flight:\n{result.summary()}"
    assert result.new_pid in drills["after SIGKILL"], "the supervisor replaced the killed worker too"
    assert len(drills["after SIGKILL"]) == WORKERS
    assert result.serving_seconds < REPLACEMENT_BOUND, result.summary()

"""A shutdown under load (workbook/shutdown_drill.py): SIGTERM while payments are in flight loses none of
them and refuses new connections; a grace shorter than the work, or SIGKILL, loses every one, though every
card was charged. And the grace `make serve` gives uvicorn is the stage's setting, which must outlast a charge.

The three drills run at once (each is a server process of its own, mostly starting up), in one fixture.
"""

import asyncio
import signal

import pytest
from pydantic import ValidationError

from workbook.serving import shutdown_arguments
from workbook.shutdown_drill import DrillResult, shutdown_drill
from workbook.stages import get_stage

STAGE = get_stage("10")
REQUESTS = 8
WORK = 1.0  # seconds from the signal until the provider answers the charges it holds
SHORT_GRACE = 1  # seconds: less than the work still to do when the signal arrives (LONG_WORK)
LONG_WORK = 4.0


@pytest.fixture(scope="module")
def drills() -> dict[str, DrillResult]:
    async def all_three() -> list[DrillResult]:
        return await asyncio.gather(
            shutdown_drill(STAGE, requests=REQUESTS, work=WORK),
            shutdown_drill(STAGE, requests=REQUESTS, work=LONG_WORK, grace=SHORT_GRACE),
            shutdown_drill(STAGE, requests=REQUESTS, work=WORK, send=signal.SIGKILL),
        )

    graceful, short_grace, killed = asyncio.run(all_three())
    return {"graceful": graceful, "short grace": short_grace, "killed": killed}


def test_sigterm_lets_every_payment_in_flight_finish(drills):
    result = drills["graceful"]
    assert result.in_flight == REQUESTS, f"all {REQUESTS} payments were at the provider when SIGTERM went: {result}"
    assert result.succeeded == REQUESTS, f"each one answered 201 before the process exited: {result}"
    assert result.lost == 0, f"none lost: {result}"
    assert result.charged == REQUESTS, "one charge per payment"
    assert result.shutdown_seconds >= WORK, f"the server waited for the work still to do: {result}"
    assert result.shutdown_seconds < WORK + 10, f"...and then exited: {result}"


def test_sigterm_refuses_new_connections_while_it_drains(drills):
    result = drills["graceful"]
    assert result.refused_after_signal >= 1, f"a new connection during the drain is refused: {result}"
    # The server notices the signal on its next tick (every 0.1 s): a knock before that may still get in.
    assert result.answered_after_signal <= 2, f"after a tick, no new connection is served: {result}"


def test_a_grace_shorter_than_the_work_loses_every_payment_in_flight(drills):
    result = drills["short grace"]
    assert result.in_flight == REQUESTS, f"all {REQUESTS} payments were at the provider when SIGTERM went: {result}"
    assert result.lost == REQUESTS, f"cancelled after {SHORT_GRACE} s, none answered with success: {result}"
    assert result.charged == REQUESTS, "yet every card was charged: the provider committed before answering"
    assert result.shutdown_seconds < LONG_WORK + 10, f"the process exited: {result}"


def test_sigkill_loses_every_payment_in_flight(drills):
    result = drills["killed"]
    assert result.dropped == REQUESTS, f"SIGKILL: every connection closed with no answer: {result}"
    assert result.lost == REQUESTS and result.charged == REQUESTS, f"lost, and charged all the same: {result}"
    assert result.exit_code == -signal.SIGKILL, f"killed, not exited: {result}"


def test_make_serve_gives_uvicorn_the_stages_grace(stage_app, monkeypatch):
    assert shutdown_arguments(stage_app.import_path) == ["--timeout-graceful-shutdown", "20"], "the default: 20 s"
    monkeypatch.setenv("WORKBOOK_SHUTDOWN_GRACE_SECONDS", "25")
    assert shutdown_arguments(stage_app.import_path) == ["--timeout-graceful-shutdown", "25"], "the setting, passed on"


def test_a_grace_no_longer_than_a_charge_is_refused(stage_app, monkeypatch):
    monkeypatch.setenv("WORKBOOK_PAYMENT_DEADLINE_SECONDS", "10")
    monkeypatch.setenv("WORKBOOK_SHUTDOWN_GRACE_SECONDS", "10")
    with pytest.raises(ValidationError, match="must exceed payment_deadline_seconds"):
        stage_app.module("settings").Settings()

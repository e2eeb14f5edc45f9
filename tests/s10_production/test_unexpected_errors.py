"""The error nobody expected: a 500 problem with the correlation id and nothing of the code; the traceback logged.

Starlette re-raises the exception after the 500 is sent (for the server to log), so
these clients are made with raise_server_exceptions=False: they get the answer a
real client gets. Nothing in the app fails on purpose, so each test makes something
fail: a dependency override on the real app, or a route of a test-only app.
"""

from collections.abc import Iterator

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send
from structlog.testing import capture_logs

from ..auth_helpers import ACME
from ..problems import checked_problem

SECRET = "connection to db.internal:5432 failed for password=hunter2"


def broken_repository():
    raise RuntimeError(SECRET)


@pytest.fixture
def failing(auth_env, stage_app) -> Iterator[TestClient]:
    dependencies = stage_app.module("dependencies")
    stage_app.app.dependency_overrides[dependencies.get_product_repository] = broken_repository
    yield from stage_app.serve(raise_server_exceptions=False)


def test_a_500_says_nothing_of_the_code_and_gives_a_correlation_id(failing):
    with capture_logs() as logs:
        response = failing.get("/products", headers=ACME)
    body = checked_problem(response)
    assert (body["status"], body["type"]) == (500, "about:blank")
    for internal in ("hunter2", "db.internal", "RuntimeError", "Traceback", "dependencies.py"):
        assert internal not in response.text, f"the answer gives away {internal!r}: {response.text}"
    assert body["correlation_id"] and body["correlation_id"] == response.headers["x-correlation-id"]
    [failure] = [log for log in logs if log["event"] == "request.failed"]
    # The log holds what the answer leaves out: the exception itself, so its traceback, under the same id.
    assert isinstance(failure["exc_info"], RuntimeError) and str(failure["exc_info"]) == SECRET
    logged = (failure["log_level"], failure["correlation_id"], failure["path"])
    assert logged == ("error", body["correlation_id"], "/products")


def test_two_failures_get_two_correlation_ids(failing):
    first, second = (failing.get("/products", headers=ACME).json()["correlation_id"] for _ in range(2))
    assert first != second


class BindsCorrelationId:
    """What the logging middleware does: bind the request's id for every log line (and not clear it early)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        structlog.contextvars.bind_contextvars(correlation_id="req-7f3a")
        await self.app(scope, receive, send)


def test_the_500_carries_the_id_the_request_was_logged_under(stage_app):
    app = FastAPI()
    stage_app.module("errors").register_error_handlers(app)
    app.add_middleware(BindsCorrelationId)

    @app.get("/fails")
    async def fails() -> None:
        raise ZeroDivisionError("a bug")

    with capture_logs() as logs, TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/fails")
    assert (response.status_code, response.headers["x-correlation-id"]) == (500, "req-7f3a")
    assert checked_problem(response)["correlation_id"] == "req-7f3a"
    assert [log["correlation_id"] for log in logs if log["event"] == "request.failed"] == ["req-7f3a"]

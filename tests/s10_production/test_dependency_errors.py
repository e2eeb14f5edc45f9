"""What an error raised in a dependency with `yield` becomes, before and after the yield, on the pinned FastAPI.

A test-only app with stage 10's exception handlers, so each answer is the one the
Storefront API would give:

- raised before `yield`: the route never runs, the handler answers (a 409 problem);
- an HTTPException raised after `yield` (the default scope, "request"): the exit code
  runs after the response has been sent, so the client has the route's 200; Starlette
  then finds no way to send the 409 (RuntimeError "Caught handled exception, but
  response already started."), which reaches the 500 handler: logged, never sent;
- the same with `Depends(..., scope="function")`: the exit code runs as the route
  returns, before the response is sent, so the 409 is the answer;
- the route's exception seen by the dependency's `except` around `yield`: re-raised,
  it is the route's 500; swallowed, FastAPI raises FastAPIError (a RuntimeError)
  "Response not awaited", and that is the 500 instead.
"""

from collections.abc import Iterator
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, HTTPException
from fastapi.exceptions import FastAPIError
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from ..problems import checked_problem

seen: list[str] = []


def refuses_before_yield() -> Iterator[str]:
    raise HTTPException(409, "Refused before the route ran")
    yield "never"


def refuses_after_yield() -> Iterator[str]:
    yield "opened"
    seen.append("exit code ran")
    raise HTTPException(409, "Refused after the route ran")


def reraises() -> Iterator[str]:
    try:
        yield "opened"
    except ValueError as error:
        seen.append(f"saw {error}")
        raise


def swallows() -> Iterator[str]:
    try:
        yield "opened"
    except ValueError as error:
        seen.append(f"saw {error}")


@pytest.fixture
def client(stage_app) -> Iterator[TestClient]:
    app = FastAPI()
    stage_app.module("errors").register_error_handlers(app)

    @app.get("/before")
    def before(value: Annotated[str, Depends(refuses_before_yield)]) -> str:
        seen.append("route ran")
        return value

    @app.get("/after")
    def after(value: Annotated[str, Depends(refuses_after_yield)]) -> str:
        seen.append("route ran")
        return value

    @app.get("/after-function-scope")
    def after_function_scope(value: Annotated[str, Depends(refuses_after_yield, scope="function")]) -> str:
        seen.append("route ran")
        return value

    @app.get("/reraised")
    def reraised(value: Annotated[str, Depends(reraises)]) -> str:
        raise ValueError("the route broke")

    @app.get("/swallowed")
    def swallowed(value: Annotated[str, Depends(swallows)]) -> str:
        raise ValueError("the route broke")

    seen.clear()
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_raised_before_yield_the_handler_answers_and_the_route_never_runs(client):
    response = client.get("/before")
    assert (response.status_code, checked_problem(response)["detail"]) == (409, "Refused before the route ran")
    assert seen == []


def test_an_httpexception_after_yield_comes_too_late_the_client_has_the_200(client):
    with capture_logs() as logs:
        response = client.get("/after")
    assert (response.status_code, response.json()) == (200, "opened")
    assert seen == ["route ran", "exit code ran"]
    # The 409 could not be sent: Starlette says so, and the 500 handler logs it (its answer is not sent either).
    [failure] = [log for log in logs if log["event"] == "request.failed"]
    assert isinstance(failure["exc_info"], RuntimeError)
    assert str(failure["exc_info"]) == "Caught handled exception, but response already started."


def test_with_function_scope_the_exit_code_runs_before_the_answer_and_its_409_is_sent(client):
    response = client.get("/after-function-scope")
    assert (response.status_code, checked_problem(response)["detail"]) == (409, "Refused after the route ran")
    assert seen == ["route ran", "exit code ran"]


def test_the_routes_exception_reaches_the_dependency_which_re_raises_it(client):
    with capture_logs() as logs:
        response = client.get("/reraised")
    assert (response.status_code, seen) == (500, ["saw the route broke"])
    assert [type(log["exc_info"]) for log in logs if log["event"] == "request.failed"] == [ValueError]


def test_a_dependency_that_swallows_the_routes_exception_makes_fastapi_raise_its_own(client):
    with capture_logs() as logs:
        response = client.get("/swallowed")
    assert (response.status_code, seen) == (500, ["saw the route broke"])
    [failure] = [log["exc_info"] for log in logs if log["event"] == "request.failed"]
    # Not the ValueError: the route's error is lost, and FastAPI says why it has no response.
    assert isinstance(failure, FastAPIError) and isinstance(failure, RuntimeError)
    assert str(failure).startswith("Response not awaited")

"""X-Correlation-ID: kept when well formed, replaced otherwise, generated when absent, returned on every
response, bound for each request apart from every other (stage 10's correlation.py)."""

import asyncio
import re
from contextvars import ContextVar

import httpx2
import pytest
import structlog
from fastapi import FastAPI

from ..auth_helpers import ACME
from .log_lines import from_the_app, json_lines

HEADER = "X-Correlation-ID"
NEW_ID = re.compile(r"[0-9a-f]{32}")  # uuid4().hex


@pytest.fixture
def correlation(stage_app):
    return stage_app.module("correlation")


@pytest.fixture
def json_logs(stage_app) -> None:
    stage_app.module("logging_config").configure_logging("DEBUG")


async def handled(scope, receive, send) -> None:
    """The smallest ASGI app: logs a line, answers 200."""
    structlog.get_logger().info("handled")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def call(app, headers: list[tuple[bytes, bytes]]) -> dict:
    """One GET through `app` with exactly these raw header lines; answers the response's start message."""
    scope = {"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""}
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]


def returned_id(start: dict) -> str:
    [value] = [v.decode() for k, v in start["headers"] if k == HEADER.lower().encode()]
    return value


@pytest.mark.parametrize("value", ["abc-123", "A.b_c-9", "7f3c2a9e-1b4d-4c8e-9f00-0a1b2c3d4e5f", "x" * 64])
def test_a_well_formed_id_is_kept_and_returned(client, value):
    response = client.get("/health", headers={HEADER: value})
    assert response.headers[HEADER] == value, "a well-formed id comes back as it was sent"


@pytest.mark.parametrize(
    "raw",
    [b"x" * 65, b"", b"abc def", b"abc\x01def", b"abc\ndef", b'{"forged": 1}', "caf\u00e9".encode("latin-1")],
    ids=["too-long", "empty", "space", "control-character", "newline", "json", "non-ascii"],
)
def test_a_malformed_id_is_replaced_by_a_new_one(correlation, json_logs, capsys, raw):
    start = call(correlation.CorrelateRequests(handled), [(b"x-correlation-id", raw)])
    assert NEW_ID.fullmatch(returned_id(start)), f"{raw!r} must be replaced by a uuid4 hex"
    logged = json_lines(capsys.readouterr().out)
    assert {line["correlation_id"] for line in logged} == {returned_id(start)}, "the lines carry the new id"


def test_several_ids_are_ambiguous_and_replaced(correlation, json_logs):
    start = call(correlation.CorrelateRequests(handled), [(b"x-correlation-id", b"one"), (b"x-correlation-id", b"two")])
    assert NEW_ID.fullmatch(returned_id(start)), "neither of two ids is kept"


def test_without_the_header_each_request_gets_a_new_id(client):
    first, second = (client.get("/health").headers[HEADER] for _ in range(2))
    assert NEW_ID.fullmatch(first) and NEW_ID.fullmatch(second)
    assert first != second


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("get", "/health", {}, 200),
        ("get", "/no-such-page", {}, 404),
        ("get", "/users/me", ACME, 401),
        ("get", "/products/MUG-001", {}, 400),  # no X-Tenant-ID
        ("post", "/users/register", ACME, 422),  # no body
    ],
)
def test_every_response_carries_the_id(client, method, path, headers, status):
    response = client.request(method, path, headers={**headers, HEADER: "req-42"})
    assert response.status_code == status, response.text
    assert response.headers[HEADER] == "req-42", f"{status} answers carry the id too"


def test_every_line_of_a_request_carries_its_id(client, capsys):
    capsys.readouterr()
    response = client.get("/products/MUG-001", headers={**ACME, HEADER: "read-mug-1"})
    assert response.status_code == 200
    lines = from_the_app(json_lines(capsys.readouterr().out))
    assert "request.answered" in [line["event"] for line in lines]
    assert all(line.get("correlation_id") == "read-mug-1" for line in lines), lines


def mini_app(correlation) -> tuple[FastAPI, dict]:
    """An app of three routes behind the middleware; `state["barrier"]` holds requests until all have arrived."""
    app = FastAPI()
    app.add_middleware(correlation.CorrelateRequests)
    state: dict = {}
    logger = structlog.get_logger()

    @app.get("/wait")
    async def wait() -> None:
        await state["barrier"].wait()  # every request is in flight before any logs
        logger.info("waited")

    @app.get("/in-a-thread")
    def in_a_thread() -> None:
        logger.info("in_a_thread")

    @app.get("/bind")
    async def bind() -> None:
        structlog.contextvars.bind_contextvars(user_id=7)
        logger.info("bound")

    return app, state


def test_concurrent_requests_each_log_their_own_id(correlation, json_logs, capsys):
    app, state = mini_app(correlation)
    ids = [f"request-{n}" for n in range(20)]

    async def all_at_once() -> list[str]:
        state["barrier"] = asyncio.Barrier(len(ids))
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://shop") as http:
            responses = await asyncio.gather(*(http.get("/wait", headers={HEADER: i}) for i in ids))
        return [response.headers[HEADER] for response in responses]

    assert asyncio.run(all_at_once()) == ids
    waited = [line for line in json_lines(capsys.readouterr().out) if line["event"] == "waited"]
    # Twenty requests interleaved on one event loop: a shared id would show up here as a repeat.
    assert sorted(line["correlation_id"] for line in waited) == sorted(ids), "each line has its own request's id"


def test_a_def_route_runs_in_a_thread_with_a_copy_of_the_request_s_context(correlation, json_logs, capsys):
    app, _ = mini_app(correlation)
    transport = httpx2.ASGITransport(app=app)

    async def one() -> None:
        async with httpx2.AsyncClient(transport=transport, base_url="http://shop") as http:
            await http.get("/in-a-thread", headers={HEADER: "threaded"})

    asyncio.run(one())
    [line] = [line for line in json_lines(capsys.readouterr().out) if line["event"] == "in_a_thread"]
    assert line["thread"] != "MainThread", "the route ran in anyio's thread pool"
    assert line["correlation_id"] == "threaded", "anyio copied the request's context into the thread"


def test_each_request_starts_from_a_fresh_context(correlation, json_logs, capsys):
    """Two requests served one after the other in ONE task share its context (an ASGI server
    may do that): what the first bound must not reach the second's lines."""
    app, _ = mini_app(correlation)

    async def one_after_the_other() -> None:
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://shop") as http:
            await http.get("/bind", headers={HEADER: "first"})
            await http.get("/in-a-thread", headers={HEADER: "second"})

    asyncio.run(one_after_the_other())
    second = [line for line in json_lines(capsys.readouterr().out) if line["correlation_id"] == "second"]
    assert second, "the second request logged"
    assert all("user_id" not in line for line in second), "the first request's user_id did not leak into the second"


# The pitfall: the id in a ContextVar of one's own. It travels as far as structlog's would,
# but merge_contextvars reads only structlog's own context variables.
plain_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)


class PlainContextVarIds:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        headers = dict(scope["headers"])
        plain_correlation_id.set(headers.get(b"x-correlation-id", b"generated").decode())
        await self.app(scope, receive, send)


def test_an_id_in_a_plain_contextvar_never_reaches_the_log_lines(correlation, json_logs, capsys):
    call(PlainContextVarIds(handled), [(b"x-correlation-id", b"lost-id")])
    [line] = json_lines(capsys.readouterr().out)
    assert "correlation_id" not in line and "lost-id" not in str(line), "merge_contextvars never reads that variable"
    call(correlation.CorrelateRequests(handled), [(b"x-correlation-id", b"found-id")])
    [line] = [line for line in json_lines(capsys.readouterr().out) if line["event"] == "handled"]
    assert line["correlation_id"] == "found-id", "bound with structlog.contextvars, it is in the line"


def test_the_middleware_wraps_the_request_labels(stage_app, correlation):
    """Outermost of the app's own middlewares: every line, LabelRequests' included, comes after the id is bound."""
    classes = [middleware.cls for middleware in stage_app.app.user_middleware]
    assert classes[0] is correlation.CorrelateRequests, classes
    assert stage_app.module("request_labels").LabelRequests in classes[1:]


async def failing(scope, receive, send) -> None:
    structlog.get_logger().info("about_to_fail")
    raise RuntimeError("the database went away")


def test_after_an_error_the_id_is_still_bound_for_the_500_handler_outside(correlation, json_logs, capsys):
    """Starlette's ServerErrorMiddleware, outside every user middleware, answers the 500: it must still find the id."""
    seen_outside: dict = {}
    inner = correlation.CorrelateRequests(failing)

    async def server_error_middleware(scope, receive, send) -> None:
        try:
            await inner(scope, receive, send)
        except RuntimeError:
            seen_outside.update(structlog.contextvars.get_contextvars())

    with pytest.raises(IndexError):  # nothing was sent: `call` finds no response start
        call(server_error_middleware, [(b"x-correlation-id", b"failing-1")])
    assert seen_outside.get("correlation_id") == "failing-1", "the context is left bound at the end"
    answered = [line for line in json_lines(capsys.readouterr().out) if line["event"] == "request.answered"]
    assert [(line["status"], line["correlation_id"]) for line in answered] == [(500, "failing-1")]

"""Stage 10 logs JSON lines, its own and the libraries', and every line a request causes carries its
correlation id: its dependencies, `def` code in the thread pool, SQL timings, background jobs, the
payment provider's call (logging_config.py, correlation.py, sql_timing.py, outbound.py)."""

import io
import logging
from datetime import datetime, timedelta

import pytest
import structlog
from PIL import Image

from ..auth_helpers import ACME, bearer, log_in, register
from ..payment_helpers import pay
from .log_lines import events, from_the_app, json_lines

HEADER = "X-Correlation-ID"
ADA = {"email": "ada@example.com", "name": "Ada", "password": "correct horse battery"}


@pytest.fixture
def debug_client(auth_env, stage_app, monkeypatch):
    """The app logging at DEBUG: each SQL statement's timing and each analytics count too."""
    monkeypatch.setenv("WORKBOOK_LOG_LEVEL", "DEBUG")
    yield from stage_app.serve()


def test_a_line_is_one_json_object_with_a_utc_timestamp_a_level_and_a_logger(stage_app, capsys):
    stage_app.module("logging_config").configure_logging("INFO")
    structlog.get_logger("storefront.test").warning("stock.low", sku="MUG-001", left=2)
    [line] = json_lines(capsys.readouterr().out)
    assert line["event"] == "stock.low" and line["sku"] == "MUG-001" and line["left"] == 2
    assert line["level"] == "warning" and line["logger"] == "storefront.test"
    stamp = datetime.fromisoformat(line["timestamp"])
    assert stamp.utcoffset() == timedelta(0), f"an ISO timestamp in UTC: {line['timestamp']}"


def test_a_library_s_standard_logging_line_comes_out_as_the_same_json_with_the_bound_id(stage_app, capsys):
    stage_app.module("logging_config").configure_logging("INFO")
    structlog.contextvars.bind_contextvars(correlation_id="lib-1")
    logging.getLogger("a.library").info("Connected to %s.", "the broker")
    [line] = json_lines(capsys.readouterr().out)
    assert line["event"] == "Connected to the broker." and line["logger"] == "a.library"
    assert line["correlation_id"] == "lib-1", "merge_contextvars runs for the libraries' records too"


def test_an_exception_is_a_field_of_the_json_line(stage_app, capsys):
    stage_app.module("logging_config").configure_logging("INFO")
    try:
        raise ValueError("out of mugs")
    except ValueError:
        logging.getLogger("storefront.test").exception("order.failed")
    [line] = json_lines(capsys.readouterr().out)
    assert "ValueError: out of mugs" in line["exception"], "the traceback is inside the JSON, not on lines of its own"


def test_setting_it_up_twice_still_prints_each_line_once(stage_app, capsys):
    for _ in range(2):
        stage_app.module("logging_config").configure_logging("INFO")
    structlog.get_logger().info("once")
    assert len(json_lines(capsys.readouterr().out)) == 1


def test_debug_lines_are_off_by_default(client, capsys):
    capsys.readouterr()
    client.get("/products/MUG-001", headers=ACME)
    assert "sql.statement" not in events(json_lines(capsys.readouterr().out)), "SQL timings are DEBUG lines"


def test_every_line_of_a_registration_carries_its_id(debug_client, capsys):
    capsys.readouterr()
    response = debug_client.post("/users/register", json=ADA, headers={**ACME, HEADER: "register-ada"})
    assert response.status_code == 202
    lines = from_the_app(json_lines(capsys.readouterr().out))
    seen = set(events(lines))
    # The middleware's line, the service's (its logger from the get_logger dependency), the SQL timings.
    assert {"request.answered", "user.registered", "sql.statement"} <= seen, seen
    assert {line["thread"] for line in lines if line["event"] == "user.registered"} != {"MainThread"}
    assert any(line["thread"].startswith("AnyIO worker thread") for line in lines), "a def route runs in the pool"
    strays = [line for line in lines if line.get("correlation_id") != "register-ada"]
    assert not strays, f"lines without the request's id: {strays}"
    kinds = {line["kind"] for line in lines if line["event"] == "sql.statement"}
    assert {"INSERT", "SELECT"} <= kinds, f"each statement's kind is logged: {kinds}"
    finished = next(line for line in lines if line["event"] == "request.answered")
    assert finished["method"] == "POST" and finished["path"] == "/users/register" and finished["status"] == 202
    assert finished["duration_ms"] > 0


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_upload_s_background_jobs_log_with_the_request_s_id(debug_client, capsys):
    user = register(debug_client, ADA)
    headers = {**bearer(log_in(debug_client, ADA["email"], ADA["password"])["access_token"]), HEADER: "upload-1"}
    files = {"file": ("me.png", png(), "image/png")}
    capsys.readouterr()
    response = debug_client.post(f"/users/{user['id']}/profile-image", files=files, headers=headers)
    assert response.status_code == 202, response.text
    lines = from_the_app(json_lines(capsys.readouterr().out))
    jobs = [line for line in lines if line["event"] in ("thumbnails.made", "analytics.counted")]
    assert len(jobs) == 2, f"both jobs ran after the response and logged: {events(lines)}"
    assert all(line["correlation_id"] == "upload-1" for line in jobs), jobs
    assert events(lines).index("request.answered") < events(lines).index("thumbnails.made"), "after the answer"


def test_the_payment_call_forwards_the_id_to_the_provider(shop, payer, provider):
    response = pay(shop, {**payer, HEADER: "pay-1"}, "order-0001")
    assert response.status_code == 201, response.text
    assert provider.ledger.headers[-1][HEADER.lower()] == "pay-1", "the provider received the request's id"
    generated = pay(shop, payer, "order-0002").headers[HEADER]
    assert provider.ledger.headers[-1][HEADER.lower()] == generated, "a generated id is forwarded as well"

"""Exercise 10/log_context: after authentication, every log line of the request names the tenant and the user."""

from ..auth_helpers import ACME, bearer, log_in, register
from .log_lines import json_lines

GRACE = {"email": "grace@example.com", "name": "Grace", "password": "another long passphrase"}


def read_log_context(client, token: str, correlation_id: str):
    return client.get("/users/me/log-context", headers={**bearer(token), "X-Correlation-ID": correlation_id})


def lines_of(capsys, correlation_id: str) -> list[dict]:
    return [line for line in json_lines(capsys.readouterr().out) if line.get("correlation_id") == correlation_id]


def test_the_route_s_line_names_the_tenant_and_the_user(client, ada, capsys):
    capsys.readouterr()
    response = read_log_context(client, ada["access_token"], "ctx-1")
    assert response.status_code == 200, f"GET /users/me/log-context should answer 200, got {response.text}"
    assert response.json() == {"correlation_id": "ctx-1", "tenant": "acme", "user_id": ada["user"]["id"]}, (
        "the request's context should hold the correlation id, tenant (the tenant's id) and user_id (the user's id)"
    )
    [line] = [line for line in lines_of(capsys, "ctx-1") if line["event"] == "log_context.read"]
    assert (line.get("tenant"), line.get("user_id")) == ("acme", ada["user"]["id"]), (
        f"the route's log line should carry tenant and user_id: {line}"
    )


def test_the_middleware_s_request_line_names_them_too(client, ada, capsys):
    capsys.readouterr()
    read_log_context(client, ada["access_token"], "ctx-2")
    [line] = [line for line in lines_of(capsys, "ctx-2") if line["event"] == "request.answered"]
    assert (line.get("tenant"), line.get("user_id")) == ("acme", ada["user"]["id"]), (
        "the request line, written by the middleware after the route, should carry them as well: bind the"
        f" request's context (structlog.contextvars), not a logger, and not from a thread: {line}"
    )


def test_each_request_names_its_own_user(client, ada, capsys):
    grace = register(client, GRACE, ACME)
    grace_token = log_in(client, GRACE["email"], GRACE["password"])["access_token"]
    capsys.readouterr()
    read_log_context(client, ada["access_token"], "ctx-ada")
    read_log_context(client, grace_token, "ctx-grace")
    output = json_lines(capsys.readouterr().out)
    users = {line.get("correlation_id"): line.get("user_id") for line in output if line["event"] == "request.answered"}
    assert users.get("ctx-ada") == ada["user"]["id"] and users.get("ctx-grace") == grace["id"], (
        f"each request's lines should name its own user: {users}"
    )

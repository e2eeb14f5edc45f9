"""Reading an error answer from any stage: FastAPI's `{"detail": ...}` or a problem (RFC 9457).

Stage 10 answers every error as problem details: `type`, `title`, `status`,
`detail` and `instance`, with extension members beside them (a 422's list of
invalid parts is `errors` there, not `detail`); POST /token adds them to RFC 6749's
members. The stages before it answer `{"detail": ...}`. A shared test reads either
through these functions: a problem's own members are checked first, then set aside,
so the test's assertion holds each stage to exactly what it sent before.
"""

from http import HTTPStatus
from typing import Any

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_MEMBERS = ("type", "title", "status", "instance")


def is_problem(body: Any) -> bool:
    return isinstance(body, dict) and {"type", "title", "status"} <= body.keys()


def checked_problem(response) -> dict[str, Any]:
    """The body of a problem answer, its members checked against the RFC and the response."""
    body = response.json()
    assert body["status"] == response.status_code, f"status {body['status']} in a {response.status_code} answer"
    assert isinstance(body["detail"], str) and body["detail"], f"detail is a sentence: {body}"
    assert isinstance(body["title"], str) and body["title"], f"a problem has a title: {body}"
    if body["type"] == "about:blank":
        # The RFC: about:blank says nothing beyond the status, so the title is the status's phrase.
        assert body["title"] == HTTPStatus(response.status_code).phrase, body
    else:
        assert body["type"].startswith("https://"), f"a problem's type is an absolute URI: {body['type']}"
    if response.request.url.path != "/token":  # RFC 6749 keeps application/json there
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE, response.headers["content-type"]
    return body


def error_body(response) -> Any:
    """The body as the stages before problem details send it: a problem's own members checked, then left out.

    `{"detail": "No product 'X'"}` from every stage; RFC 6749's three members from /token.
    """
    body = response.json()
    if not is_problem(body):
        return body
    return {name: value for name, value in checked_problem(response).items() if name not in PROBLEM_MEMBERS}


def problems(response) -> list[dict[str, Any]]:
    """A 422's invalid parts, each with loc, msg and type: `detail` in FastAPI's shape, `errors` in a problem."""
    body = error_body(response)
    return body["errors"] if "errors" in body else body["detail"]

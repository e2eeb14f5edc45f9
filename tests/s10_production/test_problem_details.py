"""Every error stage 10 sends is a problem (RFC 9457): application/problem+json, type, title, status, detail.

Each kind of error the API has is reached for real (an unknown route, a missing
product, a 401, a rate limit, an upload over the limit, an invalid request) or,
where nothing in the app fails on demand, through a dependency override that raises
the very exception the app would meet (a busy pool, a provider that is down).
"""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..auth_helpers import ACME, ADA, bearer, log_in, register
from ..problems import PROBLEM_MEDIA_TYPE, checked_problem, problems

TYPES = "https://storefront.example/problems/"


@pytest.fixture
def limited(auth_env, stage_app, monkeypatch) -> Iterator[TestClient]:
    monkeypatch.setenv("WORKBOOK_RATE_LIMIT_PER_MINUTE", "2")
    monkeypatch.setenv("WORKBOOK_MAX_UPLOAD_BYTES", "2000")
    yield from stage_app.serve()


def raising(error: Exception):
    """A dependency that fails as a real one would: for overrides."""

    def provider():
        raise error

    return provider


def test_a_missing_product_is_a_problem_typed_by_its_domain_error(client):
    response = client.get("/products/NOPE-1", headers=ACME)
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert checked_problem(response) == {
        "type": TYPES + "product-not-found",
        "title": "Product not found",
        "status": 404,
        "detail": "No product 'NOPE-1'",
        "instance": "/products/NOPE-1",
    }


def test_a_route_that_does_not_exist_is_about_blank_titled_with_the_status_phrase(client):
    body = checked_problem(client.get("/no-such-route"))
    assert (body["type"], body["title"], body["status"]) == ("about:blank", "Not Found", 404)


def test_a_401_keeps_its_www_authenticate_challenge(client):
    response = client.get("/users/me", headers=ACME)
    assert checked_problem(response)["detail"] == "Not authenticated"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_429_keeps_its_retry_after(limited):
    statuses = [limited.get("/products", headers=ACME).status_code for _ in range(3)]
    refused = limited.get("/products", headers=ACME)
    assert statuses + [refused.status_code] == [200, 200, 429, 429]
    body = checked_problem(refused)
    assert (body["type"], body["title"]) == ("about:blank", "Too Many Requests")
    assert 0 < int(refused.headers["retry-after"]) <= 60, "the seconds left in the minute's window"
    assert f"try again in {refused.headers['retry-after']} seconds" in body["detail"]


def test_an_upload_over_the_limit_is_a_413_problem(limited):
    user = register(limited, ADA)
    token = log_in(limited, ADA["email"], ADA["password"])["access_token"]
    files = {"file": ("big.png", b"\x89PNG" + b"x" * 5_000, "image/png")}
    response = limited.post(f"/users/{user['id']}/profile-image", files=files, headers=bearer(token))
    body = checked_problem(response)
    assert (body["status"], body["detail"]) == (413, "The file is larger than the limit of 2,000 bytes")


def test_a_422_lists_each_invalid_part_in_errors_and_keeps_detail_a_sentence(client):
    response = client.get("/products?limit=0&offset=-1", headers=ACME)
    body = checked_problem(response)
    assert (body["type"], body["status"]) == (TYPES + "invalid-request", 422)
    assert body["detail"] == "2 parts of the request are invalid; `errors` says where and why"
    assert [(part["loc"], part["type"]) for part in problems(response)] == [
        (["query", "limit"], "greater_than_equal"),
        (["query", "offset"], "greater_than_equal"),
    ]


def test_a_422_still_never_repeats_a_password(client):
    response = client.post("/users/register", json={**ADA, "password": "hunter2"}, headers=ACME)
    [part] = problems(response)
    assert part["loc"] == ["body", "password"] and "input" not in part, part
    assert "hunter2" not in response.text


@pytest.mark.parametrize(
    ("error", "status", "slug"),
    [
        (PoolTimeout("QueuePool limit of size 1 overflow 0 reached"), 503, "database-busy"),
        ("ProviderUnavailable", 502, "provider-unavailable"),
        ("ProviderTimeout", 504, "provider-timeout"),
    ],
    ids=["pool-exhausted", "provider-down", "provider-slow"],
)
def test_the_database_and_payment_failures_are_problems_of_their_own_type(client, stage_app, error, status, slug):
    if isinstance(error, str):  # a domain error of the payments module, made as the service makes it
        error = getattr(stage_app.module("payments"), error)("The payment provider failed")
    dependencies = stage_app.module("dependencies")
    client.app.dependency_overrides[dependencies.get_product_repository] = raising(error)
    response = client.get("/products", headers=ACME)
    body = checked_problem(response)
    assert (response.status_code, body["type"]) == (status, TYPES + slug)
    if status == 503:
        assert response.headers["retry-after"] == "1"


def test_the_api_description_documents_problems_for_every_route(client):
    schema = client.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            default = operation["responses"]["default"]["content"][PROBLEM_MEDIA_TYPE]["schema"]
            assert default == {"$ref": "#/components/schemas/Problem"}, (method, path)
    errors = schema["components"]["schemas"]["ValidationProblem"]["properties"]["errors"]
    assert errors["items"] == {"$ref": "#/components/schemas/InvalidPart"}
    assert set(schema["components"]["schemas"]["Problem"]["required"]) == {"type", "title", "status", "detail"}

"""POST /token's failures, in the shape of RFC 6749, section 5.2: `error`, `error_description`, `detail`.

Each failure has its one code; the description says why in words, so that Swagger UI's
Authorize dialog can show it. They run against every stage whose API has a /token route, each
stage's app in turn.
"""

import base64
import re

import pytest

from .auth_helpers import ACME, ADA, LOG_IN, register
from .problems import error_body, problems
from .stage_apps import stage_app_fixture

stage_app = stage_app_fixture(*LOG_IN)

RIGHT = {"username": ADA["email"], "password": ADA["password"]}
# What RFC 6749 allows in error_description: printable ASCII, except " and \.
DESCRIPTION = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]+")


def oauth_error(response, status: int, error: str) -> str:
    """Check the RFC's shape, status and code; returns the description, which `detail` repeats.

    Where the body is a problem as well (RFC 9457), its members are checked, then set aside.
    """
    body = error_body(response)
    assert (response.status_code, set(body)) == (status, {"error", "error_description", "detail"}), response.text
    assert body["error"] == error, body
    assert body["detail"] == body["error_description"]
    assert DESCRIPTION.fullmatch(body["error_description"]), body["error_description"]
    assert response.headers["cache-control"] == "no-store"
    return body["error_description"]


def test_a_wrong_password_is_invalid_grant(client):
    register(client, ADA)
    response = client.post("/token", data={**RIGHT, "password": "not her password"}, headers=ACME)
    assert oauth_error(response, 400, "invalid_grant") == "Incorrect email or password"
    # 400, not 401: no challenge to answer, so no WWW-Authenticate (a browser would act on one).
    assert "www-authenticate" not in response.headers


def test_an_unknown_email_gets_exactly_the_answer_of_a_wrong_password(client):
    register(client, ADA)
    wrong = client.post("/token", data={**RIGHT, "password": "not her password"}, headers=ACME)
    unknown = client.post("/token", data={**RIGHT, "username": "nobody@example.com"}, headers=ACME)
    assert (unknown.status_code, unknown.json()) == (wrong.status_code, wrong.json())
    # Every answer carries an id of its own where the stage has correlation ids; the rest is identical.
    assert ("x-correlation-id" in unknown.headers) == ("x-correlation-id" in wrong.headers)
    assert without_correlation_id(unknown.headers) == without_correlation_id(wrong.headers)


def without_correlation_id(headers) -> dict:
    return {name: value for name, value in headers.items() if name != "x-correlation-id"}


UNKNOWN_TENANT = "No tenant 'initech': client_id names the tenant, such as acme"
# Not quoted back: it could hold anything, a " for one, which a description may not.
MALFORMED_TENANT = "A tenant id (client_id) is 2 to 31 lowercase letters, digits or _"


@pytest.mark.parametrize(
    ("tenant", "description"),
    [("initech", UNKNOWN_TENANT), ('Acme";DROP', MALFORMED_TENANT)],
    ids=["unknown", "malformed"],
)
@pytest.mark.parametrize("where", ["form", "basic", "header"])
def test_a_client_id_that_names_no_tenant_is_invalid_client(client, tenant, description, where):
    if where == "form":
        response = client.post("/token", data={**RIGHT, "client_id": tenant})
    elif where == "basic":
        basic = base64.b64encode(f"{tenant}:".encode()).decode()
        response = client.post("/token", data=RIGHT, headers={"Authorization": f"Basic {basic}"})
    else:
        response = client.post("/token", data=RIGHT, headers={"X-Tenant-ID": tenant})
    assert oauth_error(response, 400, "invalid_client") == description


def test_no_tenant_at_all_is_invalid_request(client):
    response = client.post("/token", data=RIGHT)
    assert "client_id" in oauth_error(response, 400, "invalid_request")


def test_a_header_and_a_client_id_that_disagree_are_invalid_request(client):
    response = client.post("/token", data={**RIGHT, "client_id": "globex"}, headers=ACME)
    assert oauth_error(response, 400, "invalid_request") == "X-Tenant-ID and client_id name different tenants"


@pytest.mark.parametrize("grant_type", ["client_credentials", "refresh_token", "Password"])
def test_any_grant_type_but_password_is_unsupported_grant_type(client, grant_type):
    register(client, ADA)  # the right password: only the grant type is wrong
    response = client.post("/token", data={**RIGHT, "grant_type": grant_type}, headers=ACME)
    assert oauth_error(response, 400, "unsupported_grant_type") == "The only grant_type supported here is password"


@pytest.mark.parametrize("missing", ["username", "password"])
def test_a_missing_field_is_invalid_request_naming_it(client, missing):
    form = {name: value for name, value in RIGHT.items() if name != missing}
    response = client.post("/token", data=form, headers=ACME)
    assert oauth_error(response, 400, "invalid_request") == f"{missing} is required"
    assert ADA["password"] not in response.text  # what was sent is never echoed: it may be a password


def test_an_empty_body_names_every_missing_field(client):
    response = client.post("/token", headers=ACME)
    assert oauth_error(response, 400, "invalid_request") == "username is required; password is required"


def test_the_api_description_documents_the_error_shape(client):
    schema = client.get("/openapi.json").json()
    responses = schema["paths"]["/token"]["post"]["responses"]
    for status in ("400", "429"):
        body = responses[status]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/OAuthErrorBody"}
    assert {"error", "error_description", "detail"} <= set(
        schema["components"]["schemas"]["OAuthErrorBody"]["required"]
    )


def test_the_other_routes_keep_the_apis_usual_error_body(client):
    # Only the token endpoint speaks RFC 6749: a bad refresh request is the API's usual 422.
    response = client.post("/token/refresh", json={}, headers=ACME)
    assert response.status_code == 422
    assert not {"error", "error_description"} & set(response.json()), response.text
    assert problems(response), "a list of what was wrong, in the API's usual shape"

"""The Authorize button of /docs: the OpenAPI description, and the token request as Swagger UI sends it.

They run against every stage whose API has a /token route, each stage's app in turn.
"""

import base64

import httpx2

from .auth_helpers import ADA, LOG_IN, register
from .stage_apps import StageApp, stage_app_fixture

stage_app = stage_app_fixture(*LOG_IN)


def test_openapi_describes_the_password_flow_at_token(client, rules):
    schema = client.get("/openapi.json").json()
    scheme = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert scheme["type"] == "oauth2"
    assert scheme["flows"]["password"]["tokenUrl"] == "token"
    # The scopes it declares, and the routes that need them, grow from stage to stage (LogInRules).
    assert set(scheme["flows"]["password"]["scopes"]) == rules.scopes
    for (path, method), security in rules.security.items():
        assert schema["paths"][path][method]["security"] == security, (path, method)


def test_openapi_lets_the_tenant_header_be_sent_on_the_protected_routes(client):
    schema = client.get("/openapi.json").json()
    for path, method in (("/users/me", "get"), ("/admin/users/{user_id}", "delete"), ("/logout", "post")):
        parameters = schema["paths"][path][method]["parameters"]
        assert {"name": "X-Tenant-ID", "in": "header"}.items() <= next(
            p for p in parameters if p["name"] == "X-Tenant-ID"
        ).items()


def test_the_authorize_dialog_names_the_demo_log_in(client):
    # Swagger UI shows the scheme's description in the dialog, right above the fields to fill.
    scheme = client.get("/openapi.json").json()["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    for shown in ("`admin@acme.example`", "`storefront-demo-admin`", "client_id `acme`", "client_secret"):
        assert shown in scheme["description"]


def test_the_token_form_is_what_swagger_ui_posts(client):
    form = client.get("/openapi.json").json()["paths"]["/token"]["post"]["requestBody"]["content"]
    assert list(form) == ["application/x-www-form-urlencoded"]


def swagger_token_request(client, email: str, password: str, client_id: str, location: str):
    """The request Swagger UI's Authorize dialog makes for the password flow.

    Its "client credentials location" is an Authorization: Basic header by
    default, or the request body; the form always has grant_type and scope.
    """
    form = f"grant_type=password&username={email}&password={password.replace(' ', '+')}&scope="
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json, text/plain, */*"}
    if location == "basic":
        headers["Authorization"] = "Basic " + base64.b64encode(f"{client_id}:".encode()).decode()
    else:
        form += f"&client_id={client_id}"
    return client.post("/token", content=form, headers=headers)


def test_the_authorize_dialog_logs_in_with_the_tenant_as_client_id(client):
    register(client, ADA)
    for location in ("basic", "request-body"):
        response = swagger_token_request(client, ADA["email"], ADA["password"], "acme", location)
        assert response.status_code == 200, (location, response.text)
        token = response.json()["access_token"]
        # Swagger then sends the token as a bearer header; the tenant header goes along from the form field.
        me = client.get("/users/me", headers={"Authorization": f"Bearer {token}", "X-Tenant-ID": "acme"})
        assert me.json()["email"] == ADA["email"]


def test_the_dialog_with_client_id_left_empty_gets_a_clear_400(client):
    register(client, ADA)
    response = swagger_token_request(client, ADA["email"], ADA["password"], "", "basic")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "client_id" in response.json()["error_description"]


def test_the_swagger_request_works_over_real_http(auth_env, stage_app: StageApp):
    """The same request, sent by httpx2 over a socket to uvicorn, as a browser would send it."""
    with stage_app.running() as url:
        assert "swagger-ui" in httpx2.get(f"{url}/docs").text
        body = "grant_type=password&username=admin%40acme.example&password=storefront-demo-admin&scope="
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Basic " + base64.b64encode(b"acme:").decode(),
        }
        token = httpx2.post(f"{url}/token", content=body, headers=headers)
        assert token.status_code == 200, token.text
        me = httpx2.get(
            f"{url}/users/me",
            headers={"Authorization": f"Bearer {token.json()['access_token']}", "X-Tenant-ID": "acme"},
        )
        assert me.json()["email"] == "admin@acme.example"

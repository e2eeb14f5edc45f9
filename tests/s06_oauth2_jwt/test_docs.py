"""The Authorize button of /docs: the shared tests in tests/token_docs.py, run against this
stage's app, and the scopes this stage declares."""

# pytest collects the test functions a test module imports, so every test in token_docs.py
# runs here against stage 06's app; a star import means a new test there runs here too.
from ..token_docs import *  # noqa: F403
from ..token_docs import password_flow


def test_openapi_describes_the_password_flow_at_token(client):
    schema = client.get("/openapi.json").json()
    assert set(password_flow(schema)["scopes"]) == {"admin"}
    assert {"OAuth2PasswordBearer": []} in schema["paths"]["/users/me"]["get"]["security"]

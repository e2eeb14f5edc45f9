"""The Authorize button of /docs: the shared tests in tests/token_docs.py, run against this
stage's app, and the scopes this stage declares, route by route."""

# pytest collects the test functions a test module imports, so every test in token_docs.py
# runs here against stage 08's app; a star import means a new test there runs here too.
from ..token_docs import *  # noqa: F403
from ..token_docs import password_flow


def test_openapi_describes_the_password_flow_at_token(client):
    schema = client.get("/openapi.json").json()
    assert set(password_flow(schema)["scopes"]) == {"me", "users:read", "users:write", "admin"}
    # Each route's scopes are in the description, so the dialog can offer them.
    assert schema["paths"]["/users/me"]["get"]["security"] == [{"OAuth2PasswordBearer": ["me"]}]
    assert schema["paths"]["/admin/users/{user_id}"]["delete"]["security"] == [{"OAuth2PasswordBearer": ["admin"]}]

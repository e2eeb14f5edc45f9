"""Stage 01's API: what only this stage checks. The user routes it shares with stage 02 (POST
/users, GET /users/{email}) are tested in tests/test_users_by_email.py."""

import pytest


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_blank_or_long_name_answers_422(client, name):
    response = client.post("/users", json={"email": "ada@example.com", "name": name})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]


def test_docs_list_the_user_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/users", "/users/{email}", "/products", "/health"} <= paths.keys()

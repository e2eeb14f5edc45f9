"""Stage 01's user API, now per tenant, and the DELETE this stage adds. What it shares with
stage 01 (POST /users, GET /users/{email}) is tested in tests/test_users_by_email.py."""

import pytest

from lessons.s02_advanced_dependencies.models import AuditEvent, User

from .conftest import ACME

ADA = {"email": "ada@example.com", "name": "Ada Lovelace"}


@pytest.mark.services
def test_delete_removes_the_user_and_records_it_in_the_same_transaction(client, rows):
    client.post("/users", json=ADA, headers=ACME)
    response = client.delete("/users/ada@example.com", headers={**ACME, "X-API-Key": "acme-admin-key"})
    assert (response.status_code, response.content) == (204, b"")
    assert client.get("/users/ada@example.com", headers=ACME).status_code == 404
    assert (rows(User), rows(AuditEvent)) == (0, 2)  # registered, then deleted


def test_deleting_an_absent_user_answers_404(client):
    response = client.delete("/users/nobody@example.com", headers={**ACME, "X-API-Key": "acme-admin-key"})
    assert response.status_code == 404
    assert response.json() == {"detail": "No user with email 'nobody@example.com'"}


def test_docs_list_the_user_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/users", "/users/{email}", "/products", "/health", "/rate-limit"} <= paths.keys()
    assert {"post", "get"} <= paths["/users"].keys()
    assert {"get", "delete"} <= paths["/users/{email}"].keys()

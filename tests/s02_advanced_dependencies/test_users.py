"""Stage 01's user API, now per tenant: POST /users and GET /users/{email}."""

import pytest

from lessons.s02_advanced_dependencies.dependencies import SessionDep, get_audit_log
from lessons.s02_advanced_dependencies.main import app
from lessons.s02_advanced_dependencies.models import AuditEvent, User

from .conftest import ACME

ADA = {"email": "ada@example.com", "name": "Ada Lovelace"}


def test_register_answers_201_with_the_new_user(client):
    response = client.post("/users", json=ADA, headers=ACME)
    assert response.status_code == 201
    assert response.json() == {"id": 1, **ADA}


def test_get_user_by_email(client):
    client.post("/users", json=ADA, headers=ACME)
    response = client.get("/users/ada@example.com", headers=ACME)
    assert response.status_code == 200
    assert response.json() == {"id": 1, **ADA}


def test_unknown_email_answers_404_naming_it(client):
    response = client.get("/users/nobody@example.com", headers=ACME)
    assert response.status_code == 404
    assert response.json() == {"detail": "No user with email 'nobody@example.com'"}


def test_invalid_email_answers_422_naming_the_field(client, rows):
    response = client.post("/users", json={"email": "not-an-email", "name": "Ada"}, headers=ACME)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "email"]]
    assert rows(User) == 0


@pytest.mark.services
def test_duplicate_email_answers_409_and_writes_nothing_more(client, rows):
    client.post("/users", json=ADA, headers=ACME)
    response = client.post("/users", json={**ADA, "name": "Someone Else"}, headers=ACME)
    assert response.status_code == 409
    assert response.json() == {"detail": "A user with email 'ada@example.com' already exists"}
    assert (rows(User), rows(AuditEvent)) == (1, 1)


@pytest.mark.services
def test_a_failure_mid_request_leaves_no_half_written_rows(client, rows, failing_audit_log):
    def broken_audit_log(session: SessionDep):
        return failing_audit_log(session)  # the request's own session, as the real one gets

    app.dependency_overrides[get_audit_log] = broken_audit_log
    with pytest.raises(RuntimeError, match="audit store unavailable"):
        client.post("/users", json=ADA, headers=ACME)
    assert (rows(User), rows(AuditEvent)) == (0, 0)


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


@pytest.mark.services
def test_a_nul_in_a_path_email_answers_422(client):
    client.post("/users", json=ADA, headers=ACME)
    response = client.get("/users/ada%00@example.com", headers=ACME)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "email"]

"""Stage 01's API: POST /users and GET /users/{email}."""

import pytest

from lessons.s01_dependency_injection.dependencies import SessionDep, get_audit_log
from lessons.s01_dependency_injection.main import app
from lessons.s01_dependency_injection.models import AuditEvent, User

ADA = {"email": "ada@example.com", "name": "Ada Lovelace"}


def test_register_answers_201_with_the_new_user(client):
    response = client.post("/users", json=ADA)
    assert response.status_code == 201
    assert response.json() == {"id": 1, **ADA}


def test_get_user_by_email(client):
    client.post("/users", json=ADA)
    response = client.get("/users/ada@example.com")
    assert response.status_code == 200
    assert response.json()["name"] == "Ada Lovelace"


def test_unknown_email_answers_404_naming_it(client):
    response = client.get("/users/nobody@example.com")
    assert response.status_code == 404
    assert response.json() == {"detail": "No user with email 'nobody@example.com'"}


def test_invalid_email_answers_422_naming_the_field(client, rows):
    response = client.post("/users", json={"email": "not-an-email", "name": "Ada"})
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "email"]]
    assert rows(User) == 0


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_blank_or_long_name_answers_422(client, name):
    response = client.post("/users", json={"email": "ada@example.com", "name": name})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]


@pytest.mark.services
def test_duplicate_email_answers_409_and_writes_nothing_more(client, rows):
    client.post("/users", json=ADA)
    response = client.post("/users", json={**ADA, "name": "Someone Else"})
    assert response.status_code == 409
    assert response.json() == {"detail": "A user with email 'ada@example.com' already exists"}
    assert (rows(User), rows(AuditEvent)) == (1, 1)


@pytest.mark.services
def test_a_failure_mid_request_leaves_no_half_written_rows(client, rows, failing_audit_log):
    def broken_audit_log(session: SessionDep):
        return failing_audit_log(session)  # the request's own session, as the real one gets

    app.dependency_overrides[get_audit_log] = broken_audit_log
    with pytest.raises(RuntimeError, match="audit store unavailable"):
        client.post("/users", json=ADA)
    assert (rows(User), rows(AuditEvent)) == (0, 0)


def test_docs_list_the_user_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/users", "/users/{email}", "/products", "/health"} <= paths.keys()


@pytest.mark.services
def test_a_nul_in_a_path_email_answers_422(client):
    client.post("/users", json=ADA)
    response = client.get("/users/ada%00@example.com")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "email"]

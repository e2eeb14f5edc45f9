"""The user API of the stages that find a user by email: POST /users and GET /users/{email}.

They run against every stage whose API has both routes, each stage's app in turn. A stage
with tenants needs the X-Tenant-ID header; a stage without them ignores it.
"""

from collections.abc import Iterator
from functools import partial

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from .problems import error_body, problems
from .stage_apps import StageApp, count_rows, stage_app_fixture

ACME = {"X-Tenant-ID": "acme"}
ADA = {"email": "ada@example.com", "name": "Ada Lovelace"}

stage_app = stage_app_fixture("/users", "/users/{email}")


@pytest.fixture
def client(stage_env, stage_app: StageApp) -> Iterator[TestClient]:
    yield from stage_app.serve()


@pytest.fixture
def rows(client):
    """Count the rows of a table, straight from the database the app uses (acme's schema, with tenants)."""
    if "tenants" in client.app_state:
        return partial(count_rows, client)

    def count(model) -> int:
        with client.app_state["sessions"]() as session:
            return session.scalar(select(func.count()).select_from(model))

    return count


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
    assert error_body(response) == {"detail": "No user with email 'nobody@example.com'"}


def test_invalid_email_answers_422_naming_the_field(client, rows, stage_app):
    response = client.post("/users", json={"email": "not-an-email", "name": "Ada"}, headers=ACME)
    assert response.status_code == 422
    assert [error["loc"] for error in problems(response)] == [["body", "email"]]
    assert rows(stage_app.module("models").User) == 0


@pytest.mark.services
def test_duplicate_email_answers_409_and_writes_nothing_more(client, rows, stage_app):
    models = stage_app.module("models")
    client.post("/users", json=ADA, headers=ACME)
    response = client.post("/users", json={**ADA, "name": "Someone Else"}, headers=ACME)
    assert response.status_code == 409
    assert error_body(response) == {"detail": "A user with email 'ada@example.com' already exists"}
    assert (rows(models.User), rows(models.AuditEvent)) == (1, 1)


@pytest.mark.services
def test_a_failure_mid_request_leaves_no_half_written_rows(client, rows, failing_audit_log, stage_app):
    models, dependencies = stage_app.module("models"), stage_app.module("dependencies")
    SessionDep = dependencies.SessionDep

    def broken_audit_log(session: SessionDep):
        return failing_audit_log(session)  # the request's own session, as the real one gets

    client.app.dependency_overrides[dependencies.get_audit_log] = broken_audit_log
    with pytest.raises(RuntimeError, match="audit store unavailable"):
        client.post("/users", json=ADA, headers=ACME)
    assert (rows(models.User), rows(models.AuditEvent)) == (0, 0)


@pytest.mark.services
def test_a_nul_in_a_path_email_answers_422(client):
    client.post("/users", json=ADA, headers=ACME)
    response = client.get("/users/ada%00@example.com", headers=ACME)
    assert response.status_code == 422
    assert problems(response)[0]["loc"] == ["path", "email"]

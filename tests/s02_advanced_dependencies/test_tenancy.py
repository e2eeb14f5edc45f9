"""Tenants: chosen by the X-Tenant-ID header, checked before any SQL, kept apart."""

import pytest

from lessons.s02_advanced_dependencies import dependencies
from lessons.s02_advanced_dependencies.main import app
from lessons.s02_advanced_dependencies.models import User
from lessons.s02_advanced_dependencies.tenancy import schema_for

from .conftest import ACME, GLOBEX

ADA = {"email": "ada@example.com", "name": "Ada Lovelace"}
MALFORMED = "X-Tenant-ID must be 2 to 31 lowercase letters, digits or underscores, starting with a letter"


def test_a_missing_tenant_header_answers_400(client, statements):
    response = client.post("/users", json=ADA)
    assert response.status_code == 400
    assert response.json() == {"detail": "The X-Tenant-ID header is required"}
    assert statements == []


@pytest.mark.parametrize("tenant_id", ["ACME", "a", "1acme", "acme-corp", "acme; DROP TABLE users", "a" * 32])
def test_a_malformed_tenant_answers_400_before_any_sql(client, statements, tenant_id):
    response = client.get("/users/ada@example.com", headers={"X-Tenant-ID": tenant_id})
    assert response.status_code == 400
    assert response.json() == {"detail": MALFORMED}
    assert statements == []


def test_an_unknown_tenant_answers_404_naming_it_before_any_sql(client, statements):
    response = client.post("/users", json=ADA, headers={"X-Tenant-ID": "initech"})
    assert response.status_code == 404
    assert response.json() == {"detail": "No tenant 'initech'"}
    assert statements == []


def test_routes_outside_users_need_no_tenant(client):
    assert client.get("/health").json() == {"status": "ok", "stage": "02"}
    assert client.get("/products").status_code == 200


@pytest.mark.services
def test_a_user_created_in_one_tenant_is_invisible_from_another(client, rows):
    assert client.post("/users", json=ADA, headers=ACME).status_code == 201
    response = client.get("/users/ada@example.com", headers=GLOBEX)
    assert response.status_code == 404
    assert response.json() == {"detail": "No user with email 'ada@example.com'"}
    assert (rows(User, "acme"), rows(User, "globex")) == (1, 0)


@pytest.mark.services
def test_each_tenant_has_its_own_ids_and_its_own_unique_emails(client):
    first = client.post("/users", json=ADA, headers=ACME)
    second = client.post("/users", json={**ADA, "name": "Another Ada"}, headers=GLOBEX)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == {"id": 1, **ADA}
    assert second.json() == {"id": 1, "email": "ada@example.com", "name": "Another Ada"}


@pytest.mark.services
def test_every_request_of_a_tenant_uses_the_view_built_at_start_up(client):
    binds = []

    def recording_session(tenant: dependencies.TenantDep):
        for session in dependencies.get_session(tenant):
            binds.append(session.get_bind())
            yield session

    app.dependency_overrides[dependencies.get_session] = recording_session
    for headers in (ACME, ACME, GLOBEX):
        client.get("/users/ada@example.com", headers=headers)
    acme_first, acme_again, globex = binds
    assert acme_first is acme_again  # made once, at start-up, not per request
    assert acme_first is not globex  # each tenant has its own schema_translate_map...
    assert acme_first.pool is globex.pool  # ...over the one engine and its one pool
    assert acme_first.get_execution_options()["schema_translate_map"] == {"tenant": "tenant_acme"}


@pytest.mark.services
def test_the_sql_names_the_tenant_schema_not_the_placeholder(client, statements):
    client.post("/users", json=ADA, headers=GLOBEX)
    inserts = [statement for statement in statements if statement.startswith("INSERT INTO")]
    assert [insert.split(" (")[0] for insert in inserts] == [
        "INSERT INTO tenant_globex.users",
        "INSERT INTO tenant_globex.audit_events",
    ]


def test_schema_for_refuses_an_unsafe_tenant_id():
    with pytest.raises(ValueError, match="not a valid tenant id"):
        schema_for('acme"; DROP SCHEMA public; --')

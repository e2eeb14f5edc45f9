"""DELETE /users/{email}: credentials -> principal -> permission, each able to stop the request."""

from typing import Annotated

import pytest
from fastapi import Depends

from lessons.s02_advanced_dependencies import access
from lessons.s02_advanced_dependencies.dependencies import TenantDep, get_principals, get_user_service
from lessons.s02_advanced_dependencies.main import app
from lessons.s02_advanced_dependencies.principals import PrincipalDirectory

from .conftest import ACME

ADA = {"email": "ada@example.com", "name": "Ada Lovelace"}


@pytest.fixture
def reached(client) -> list[str]:
    """Which layers behind the credentials check ran: the principal lookup, the service."""
    calls: list[str] = []

    def recorded_principal(
        api_key: Annotated[str, Depends(access.api_key_header)],
        tenant: TenantDep,
        principals: Annotated[PrincipalDirectory, Depends(get_principals)],
    ):
        calls.append("principal")
        return access.get_principal(api_key, tenant, principals)

    class RecordingService:
        def delete(self, email: str) -> None:
            calls.append("service")

    app.dependency_overrides[access.get_principal] = recorded_principal
    app.dependency_overrides[get_user_service] = RecordingService
    return calls


def delete_ada(client, **headers):
    return client.delete("/users/ada@example.com", headers={**ACME, **headers})


def test_no_key_answers_401_and_no_principal_is_looked_up(client, reached):
    response = delete_ada(client)
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "APIKey"
    assert reached == []


@pytest.mark.parametrize("key", ["not-a-key", "globex-admin-key"], ids=["unknown key", "another tenant's key"])
def test_a_key_that_is_not_this_tenants_answers_401_and_stops_there(client, reached, key):
    response = delete_ada(client, **{"X-API-Key": key})
    assert response.status_code == 401
    assert response.json() == {"detail": "The API key is not valid for this tenant"}
    assert reached == ["principal"]


def test_a_viewer_answers_403_and_the_service_is_not_reached(client, reached):
    response = delete_ada(client, **{"X-API-Key": "acme-viewer-key"})
    assert response.status_code == 403
    assert response.json() == {"detail": "acme-viewer does not have the permission 'users:delete'"}
    assert reached == ["principal"]


def test_an_admin_passes_every_layer(client, reached):
    response = delete_ada(client, **{"X-API-Key": "acme-admin-key"})
    assert response.status_code == 204
    assert reached == ["principal", "service"]


def test_a_viewer_leaves_the_user_in_place(client):
    client.post("/users", json=ADA, headers=ACME)
    assert delete_ada(client, **{"X-API-Key": "acme-viewer-key"}).status_code == 403
    assert client.get("/users/ada@example.com", headers=ACME).json() == {"id": 1, **ADA}


def test_keys_are_stored_as_digests_not_as_keys(client):
    directory = client.app_state["principals"]
    assert directory.find("acme-admin-key").permissions == {"users:read", "users:delete"}
    assert directory.find("acme-viewer-key").permissions == {"users:read"}
    assert "acme-admin-key" not in repr(vars(directory))

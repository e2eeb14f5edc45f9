"""token -> user -> scope -> permission/ownership -> resource: each layer stops the request
with its own status (401, 401, 403, 403, 404), and the layers after it never run.

They run against every stage whose API has roles (an admin's role route), each stage's app in turn.
"""

import jwt
import pytest

from .auth_helpers import ACME, GRACE, ROLES, bearer, register, token_service
from .problems import error_body
from .stage_apps import StageApp, stage_app_fixture

stage_app = stage_app_fixture(*ROLES)


@pytest.fixture
def reached(client, stage_app: StageApp, monkeypatch) -> list[str]:
    """Which layers behind the token and user checks ran: the permission lookup, the service."""
    permissions = stage_app.module("permissions")
    UserService = stage_app.module("services").UserService
    calls: list[str] = []
    real_allows = permissions.PermissionCache.allows

    async def recording_allows(self, tenant_id, user, permission, session):
        calls.append(f"permission {permission}")
        return await real_allows(self, tenant_id, user, permission, session)

    monkeypatch.setattr(permissions.PermissionCache, "allows", recording_allows)

    monkeypatch.setattr(UserService, "delete", _recording(UserService.delete, calls, "service delete"))
    monkeypatch.setattr(UserService, "get", _recording(UserService.get, calls, "service get"))
    return calls


def _recording(method, calls: list[str], label: str):
    def wrapper(self, *args, **kwargs):
        calls.append(label)
        return method(self, *args, **kwargs)

    return wrapper


def delete(client, token: str | None, user_id: int):
    headers = bearer(token) if token else ACME
    return client.delete(f"/admin/users/{user_id}", headers=headers)


def test_layer_1_no_or_a_bad_token_answers_401_and_nothing_behind_it_runs(client, ada, reached):
    assert delete(client, None, 1).status_code == 401
    assert delete(client, "a.b.c", 1).status_code == 401
    assert reached == []


def test_layer_2_a_token_whose_user_is_gone_answers_401(client, ada, admin, reached):
    assert delete(client, admin["access_token"], ada["user"]["id"]).status_code == 204
    reached.clear()
    response = client.get("/users/me", headers=bearer(ada["access_token"]))
    assert response.status_code == 401
    assert error_body(response) == {"detail": "The token's user no longer exists"}
    assert reached == []


def test_layer_3_a_token_without_the_scope_answers_403_before_any_permission_lookup(client, ada, reached):
    response = delete(client, ada["access_token"], 1)
    assert response.status_code == 403
    assert error_body(response) == {"detail": "The token lacks the scope 'admin'"}
    assert reached == []


def test_layer_4a_a_role_without_the_permission_answers_403_and_the_service_never_runs(client, ada, reached):
    # A token WITH the admin scope (signed with the real key) for a customer: only the permission can stop it.
    claims = jwt.decode(ada["access_token"], options={"verify_signature": False}) | {"scopes": ["admin", "me"]}
    response = delete(client, token_service(client).encode(claims), 1)
    assert response.status_code == 403
    assert reached == ["permission users:delete"]


def test_layer_4b_someone_elses_profile_answers_403_and_the_service_never_runs(client, ada, reached):
    grace = register(client, GRACE)
    reached.clear()
    response = client.patch(f"/users/{grace['id']}", json={"name": "x"}, headers=bearer(ada["access_token"]))
    assert response.status_code == 403
    assert reached == []  # a customer's token has no users:write scope: no lookup needed to refuse


def test_layer_5_a_permitted_caller_asking_for_an_unknown_id_gets_404(client, admin, reached):
    response = client.get("/users/999", headers=bearer(admin["access_token"]))
    assert response.status_code == 404
    assert reached == ["permission users:read", "service get"]


def test_every_layer_passed_the_route_runs(client, ada, admin, reached):
    assert delete(client, admin["access_token"], ada["user"]["id"]).status_code == 204
    assert reached == ["permission users:delete", "service delete", "service get"]

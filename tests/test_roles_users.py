"""The user routes with roles: register with a role, PATCH a profile, and PUT a role.

They run against every stage whose API has roles (an admin's role route), each stage's app in turn.
"""

import pytest

from .auth_helpers import ADA, GRACE, ROLES, bearer, log_in, register
from .problems import problems
from .stage_apps import stage_app_fixture

stage_app = stage_app_fixture(*ROLES)


def test_a_new_user_is_a_customer(client):
    assert register(client, ADA) == {"id": 2, "email": ADA["email"], "name": ADA["name"], "role": "customer"}


def test_a_user_edits_their_own_profile(client, ada):
    response = client.patch(
        f"/users/{ada['user']['id']}", json={"name": "Ada King"}, headers=bearer(ada["access_token"])
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Ada King"
    assert client.get("/users/me", headers=bearer(ada["access_token"])).json()["name"] == "Ada King"


def test_an_empty_name_is_refused(client, ada):
    response = client.patch(f"/users/{ada['user']['id']}", json={"name": "  "}, headers=bearer(ada["access_token"]))
    assert response.status_code == 422


@pytest.mark.services
def test_a_name_with_a_nul_character_is_refused_and_the_old_one_kept(client, ada):
    headers = bearer(ada["access_token"])
    response = client.patch(f"/users/{ada['user']['id']}", json={"name": "Ada\x00King"}, headers=headers)
    assert (response.status_code, problems(response)[0]["loc"]) == (422, ["body", "name"])
    assert client.get("/users/me", headers=headers).json()["name"] == ADA["name"]


def test_an_admin_edits_anyone(client, ada, admin):
    response = client.patch(
        f"/users/{ada['user']['id']}", json={"name": "Renamed"}, headers=bearer(admin["access_token"])
    )
    assert (response.status_code, response.json()["name"]) == (200, "Renamed")


def test_an_admin_assigns_a_role_and_the_user_logs_in_with_its_scopes(client, admin):
    grace = register(client, GRACE)
    response = client.put(
        f"/admin/users/{grace['id']}/role", json={"role": "staff"}, headers=bearer(admin["access_token"])
    )
    assert response.status_code == 200
    assert response.json()["role"] == "staff"
    assert log_in(client, GRACE["email"], GRACE["password"])["scope"] == "me users:read"


def test_assigning_a_role_to_an_unknown_user_answers_404(client, admin):
    response = client.put("/admin/users/999/role", json={"role": "staff"}, headers=bearer(admin["access_token"]))
    assert response.status_code == 404


def test_admin_routes_and_the_old_delete_path_need_the_admin_scope_and_permission(client, ada, admin):
    grace = register(client, GRACE)
    assert client.delete(f"/users/{grace['id']}", headers=bearer(ada["access_token"])).status_code == 403
    assert client.delete(f"/users/{grace['id']}", headers=bearer(admin["access_token"])).status_code == 204

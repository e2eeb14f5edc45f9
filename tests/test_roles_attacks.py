"""Attacks on the authorization checks: scopes, roles, permissions and ownership, from OWASP's
authorization cheat sheet. Each must end in the exact status shown, never 500, and never in access
it should not give. The attacks on the tokens themselves are in test_token_attacks.py; as
those do, each runs once with each JWT library the token service can use.

They run against every stage whose API has roles (an admin's role route), each stage's app in turn.
"""

import pytest

from .auth_helpers import (
    ACME,
    GRACE,
    ROLES,
    assert_refused,
    bearer,
    claims_for,
    log_in,
    log_in_as_admin,
    me,
    register,
    set_role,
    sign,
)
from .problems import error_body
from .stage_apps import stage_app_fixture

stage_app = stage_app_fixture(*ROLES)


@pytest.fixture
def auth_env(auth_env, jwt_library, monkeypatch) -> None:
    # The shared auth_env, plus the library: every test of this module runs with each.
    monkeypatch.setenv("WORKBOOK_JWT_LIBRARY", jwt_library)


# --- Authorization: scopes, roles, permissions, ownership (OWASP authorization cheat sheet) ----------


def test_a_customer_token_cannot_reach_admin_routes(client, ada):
    grace = register(client, GRACE)
    for method, path, body in (
        ("DELETE", f"/admin/users/{grace['id']}", None),
        ("PUT", f"/admin/users/{grace['id']}/role", {"role": "admin"}),
        ("PUT", f"/admin/users/{ada['user']['id']}/role", {"role": "admin"}),  # promoting oneself
    ):
        response = client.request(method, path, json=body, headers=bearer(ada["access_token"]))
        assert response.status_code == 403, (method, path)
        assert response.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="admin"'
    assert me(client, ada["access_token"]).json()["role"] == "customer"


def test_staff_can_read_others_but_not_edit_or_delete_them(client, ada, grace):
    staff = bearer(grace["access_token"])
    assert client.get(f"/users/{ada['user']['id']}", headers=staff).status_code == 200
    assert client.patch(f"/users/{ada['user']['id']}", json={"name": "Hacked"}, headers=staff).status_code == 403
    assert client.delete(f"/admin/users/{ada['user']['id']}", headers=staff).status_code == 403


def test_idor_a_customer_cannot_read_or_edit_another_user_by_changing_the_id(client, ada):
    grace = register(client, GRACE)
    headers = bearer(ada["access_token"])
    assert client.get(f"/users/{grace['id']}", headers=headers).status_code == 403
    response = client.patch(f"/users/{grace['id']}", json={"name": "Hacked"}, headers=headers)
    assert response.status_code == 403
    assert error_body(response) == {"detail": "You may only do this to your own account"}


def test_an_unknown_id_is_403_for_a_customer_and_404_only_for_who_may_look(client, ada, admin):
    assert client.get("/users/999", headers=bearer(ada["access_token"])).status_code == 403
    assert client.patch("/users/999", json={"name": "x"}, headers=bearer(ada["access_token"])).status_code == 403
    assert client.get("/users/999", headers=bearer(admin["access_token"])).status_code == 404
    assert client.patch("/users/999", json={"name": "x"}, headers=bearer(admin["access_token"])).status_code == 404


def test_mass_assignment_a_profile_edit_cannot_set_the_role(client, ada):
    body = {"name": "Ada", "role": "admin", "token_version": 0, "id": 1}
    response = client.patch(f"/users/{ada['user']['id']}", json=body, headers=bearer(ada["access_token"]))
    assert response.status_code == 200
    assert response.json() == {**ada["user"], "name": "Ada"}


def test_an_admin_token_asked_for_with_fewer_scopes_is_held_to_them(client, ada):
    narrow = log_in(client, "admin@acme.example", "storefront-demo-admin", scope="me")
    headers = bearer(narrow["access_token"])
    assert client.delete(f"/admin/users/{ada['user']['id']}", headers=headers).status_code == 403
    assert client.patch(f"/users/{ada['user']['id']}", json={"name": "x"}, headers=headers).status_code == 403
    assert client.get("/users/me", headers=headers).status_code == 200


def test_a_correctly_signed_token_claiming_more_scopes_than_the_role_still_meets_the_permission_check(client, ada):
    # Defence in depth: even a token that carries "admin" (a leaked key, a bug in
    # the log-in) cannot delete unless the user's ROLE holds the permission.
    forged = sign(client, claims_for(client, ada, scopes=["admin", "me", "users:read", "users:write"]))
    admin_id = 1
    response = client.delete(f"/admin/users/{admin_id}", headers=bearer(forged))
    assert response.status_code == 403
    assert error_body(response) == {"detail": "The role 'customer' does not have the permission 'users:delete'"}
    response = client.patch(f"/users/{admin_id}", json={"name": "x"}, headers=bearer(forged))
    assert response.status_code == 403


def test_a_token_issued_before_a_role_change_stops_working(client, admin, ada):
    set_role(client, ada["user"]["id"], "staff")
    assert_refused(
        me(client, ada["access_token"]), "The token was issued before a password or role change; log in again"
    )
    response = client.post("/token/refresh", json={"refresh_token": ada["refresh_token"]}, headers=ACME)
    assert_refused(response, "The refresh token is no longer valid; log in again")


def test_a_demoted_admin_loses_admin_access_at_once(client, ada):
    second = register(client, GRACE)
    set_role(client, second["id"], "admin")
    grace_admin = log_in(client, GRACE["email"], GRACE["password"])
    set_role(client, second["id"], "customer")  # demoted by the demo admin
    response = client.delete(f"/admin/users/{ada['user']['id']}", headers=bearer(grace_admin["access_token"]))
    assert_refused(response)
    again = log_in(client, GRACE["email"], GRACE["password"])
    assert again["scope"] == "me"
    assert client.delete(f"/admin/users/{ada['user']['id']}", headers=bearer(again["access_token"])).status_code == 403


def test_a_role_that_does_not_exist_is_refused(client, admin, ada):
    response = client.put(
        f"/admin/users/{ada['user']['id']}/role", json={"role": "superuser"}, headers=bearer(admin["access_token"])
    )
    assert response.status_code == 422


def test_an_admin_of_another_tenant_cannot_change_roles_here(client, ada):
    globex_admin = log_in_as_admin(client, "globex")
    response = client.put(
        f"/admin/users/{ada['user']['id']}/role", json={"role": "admin"}, headers=bearer(globex_admin["access_token"])
    )
    assert_refused(response, "The token was issued for another tenant")

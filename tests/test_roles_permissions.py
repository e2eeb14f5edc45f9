"""PermissionChecker, roles mapped to scopes, and the permission cache: what is cached, for how
long, keyed on what, and how a role change or a token-version bump gets around a stale answer.

They run against every stage whose API has roles (an admin's role route), each stage's app in turn.
"""

import jwt
import pytest
from sqlalchemy import Engine, delete, event

from .auth_helpers import ADA, GLOBEX, GRACE, ROLES, bearer, claims_of, log_in, register, set_role, token_service
from .stage_apps import StageApp, run_redis, stage_app_fixture

stage_app = stage_app_fixture(*ROLES)


@pytest.fixture
def permission_queries():
    """Every SQL statement that reads role_permissions while the test runs."""
    sent: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany) -> None:
        if "role_permissions" in statement and statement.lstrip().upper().startswith("SELECT"):
            sent.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield sent
    event.remove(Engine, "before_cursor_execute", record)


@pytest.mark.parametrize(
    ("role", "scope"),
    [("customer", "me"), ("staff", "me users:read"), ("admin", "admin me users:read users:write")],
)
def test_the_scopes_of_a_log_in_come_from_the_role(client, role, scope):
    user = register(client, GRACE)
    set_role(client, user["id"], role)
    pair = log_in(client, GRACE["email"], GRACE["password"])
    assert pair["scope"] == scope
    assert claims_of(client, pair["access_token"]).scopes == scope.split()


@pytest.mark.services
def test_a_second_identical_decision_is_read_from_the_cache_not_the_database(client, admin, permission_queries):
    register(client, ADA)
    headers = bearer(admin["access_token"])
    for _ in range(3):
        assert client.get("/users/2", headers=headers).status_code == 200
    assert len(permission_queries) == 1  # three requests, one query


@pytest.mark.services
def test_the_cache_key_holds_tenant_user_version_role_and_permission_and_expires(client, admin):
    register(client, ADA)
    client.get("/users/2", headers=bearer(admin["access_token"]))
    key = "perm:acme:1:0:admin:users:read"
    assert run_redis(client, "get", key) == "1"
    assert 55 <= run_redis(client, "ttl", key) <= 60  # settings.permission_cache_seconds


@pytest.mark.services
def test_refusals_are_cached_too(client, ada, permission_queries):
    # Ada's token carries "admin" (signed with the real key), her role does not hold users:delete.
    claims = jwt.decode(ada["access_token"], options={"verify_signature": False}) | {"scopes": ["admin", "me"]}
    forged = token_service(client).encode(claims)
    for _ in range(2):
        assert client.delete("/admin/users/1", headers=bearer(forged)).status_code == 403
    assert len(permission_queries) == 1
    assert run_redis(client, "get", "perm:acme:2:0:customer:users:delete") == "0"


@pytest.mark.services
def test_a_role_change_can_never_read_the_old_roles_cached_answer(client, permission_queries):
    user = register(client, GRACE)
    set_role(client, user["id"], "staff")
    staff = log_in(client, GRACE["email"], GRACE["password"])
    assert client.get("/users/1", headers=bearer(staff["access_token"])).status_code == 200
    set_role(client, user["id"], "customer")  # role and version change together
    # The old token is refused outright (its version is stale); a new one is a customer's.
    assert client.get("/users/1", headers=bearer(staff["access_token"])).status_code == 401
    customer = log_in(client, GRACE["email"], GRACE["password"])
    assert client.get("/users/1", headers=bearer(customer["access_token"])).status_code == 403
    set_role(client, user["id"], "staff")  # back to staff: a NEW version, so a new key and a fresh lookup
    staff_again = log_in(client, GRACE["email"], GRACE["password"])
    before = len(permission_queries)
    assert client.get("/users/1", headers=bearer(staff_again["access_token"])).status_code == 200
    assert len(permission_queries) == before + 1
    assert run_redis(client, "exists", "perm:acme:2:3:staff:users:read") == 1


@pytest.mark.services
def test_a_password_change_bumps_the_version_and_so_the_key(client, admin):
    register(client, ADA)
    key_before = "perm:acme:1:0:admin:users:read"
    client.get("/users/2", headers=bearer(admin["access_token"]))
    response = client.post(
        "/users/me/password",
        json={"current_password": "storefront-demo-admin", "new_password": "a new admin password"},
        headers=bearer(admin["access_token"]),
    )
    assert response.status_code == 204
    fresh = log_in(client, "admin@acme.example", "a new admin password")
    client.get("/users/2", headers=bearer(fresh["access_token"]))
    assert run_redis(client, "exists", key_before) == 1  # still there, but never read again...
    assert run_redis(client, "exists", "perm:acme:1:1:admin:users:read") == 1  # ...the new version has its own


@pytest.mark.services
def test_what_the_key_cannot_see_waits_for_the_expiry(client, admin, stage_app: StageApp):
    # Editing the role_permissions table itself is invisible to the key: the cached
    # answer stands until it expires. That is the trade the cache makes.
    register(client, ADA)
    headers = bearer(admin["access_token"])
    assert client.get("/users/2", headers=headers).status_code == 200
    RolePermission = stage_app.module("models").RolePermission
    with client.app_state["tenants"].get("acme").sessions() as session:
        session.execute(
            delete(RolePermission).where(RolePermission.role == "admin", RolePermission.permission == "users:read")
        )
        session.commit()
    assert client.get("/users/2", headers=headers).status_code == 200  # cached "yes"
    run_redis(client, "delete", "perm:acme:1:0:admin:users:read")  # as if 60 seconds had passed
    assert client.get("/users/2", headers=headers).status_code == 403


def test_the_permission_checker_names_the_role_and_the_permission(client, ada, admin):
    set_role(client, ada["user"]["id"], "staff")
    response = client.delete(
        "/admin/users/1", headers=bearer(log_in(client, ADA["email"], ADA["password"])["access_token"])
    )
    assert response.status_code == 403  # staff tokens do not carry the admin scope
    assert response.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="admin"'


def test_tenants_have_their_own_permissions_and_cache_keys(client):
    register(client, ADA, GLOBEX)
    globex_admin = log_in(client, "admin@globex.example", "storefront-demo-admin", GLOBEX)
    assert client.get("/users/2", headers=bearer(globex_admin["access_token"], GLOBEX)).status_code == 200
    assert run_redis(client, "exists", "perm:globex:1:0:admin:users:read") == 1
    assert run_redis(client, "exists", "perm:acme:1:0:admin:users:read") == 0

"""Exercise 07/any_scope: RequireAnyScope lets GET /users through with any one of several scopes."""

from ..auth_helpers import ACME, bearer, log_in


def users(client, token: str):
    return client.get("/users", headers=bearer(token))


def test_staff_list_the_tenants_users(client, ada, grace):
    response = users(client, grace["access_token"])
    assert response.status_code == 200, f"a staff token (users:read) should be let through, got {response.status_code}"
    assert [user["email"] for user in response.json()] == [
        "admin@acme.example",
        ada["user"]["email"],
        grace["user"]["email"],
    ], "every user of the tenant, in id order"


def test_an_admin_token_with_only_the_admin_scope_is_enough(client, ada):
    admin = log_in(client, "admin@acme.example", "storefront-demo-admin", scope="admin")
    assert users(client, admin["access_token"]).status_code == 200, "'admin' alone is one of the accepted scopes"


def test_a_customer_gets_403_naming_the_scopes(client, ada):
    response = users(client, ada["access_token"])
    assert response.status_code == 403, f"a customer's token carries neither scope: 403, got {response.status_code}"
    assert response.json() == {"detail": "The token needs one of the scopes 'users:read admin'"}, "the detail"
    assert response.headers.get("www-authenticate") == 'Bearer error="insufficient_scope", scope="users:read admin"', (
        "the WWW-Authenticate header names the error and the scopes"
    )


def test_without_a_token_it_is_still_401(client, grace):
    assert users(client, grace["access_token"]).status_code == 200, "a staff token must be let through first"
    assert client.get("/users", headers=ACME).status_code == 401, "no token: the dependency's 401, before yours"

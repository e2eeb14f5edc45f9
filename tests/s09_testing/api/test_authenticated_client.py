"""An authenticated client two ways, and what the fast way hides.

Overriding get_current_user skips everything beneath it: the token, and every
check made on it. Use it for tests about what a route does for a user; use a
real token for tests about who may call the route.
"""

import pytest

from ...auth_helpers import ACME, ADA, GLOBEX, bearer, log_in

pytestmark = pytest.mark.api


def test_with_the_override_a_route_sees_ada_without_a_token(client, ada_by_override):
    response = client.get("/users/me", headers=ada_by_override)
    assert response.status_code == 200, response.text
    assert response.json()["email"] == ADA["email"]


def test_with_a_real_token_a_route_sees_ada(client, ada_by_token):
    response = client.get("/users/me", headers=ada_by_token)
    assert response.status_code == 200, response.text
    assert response.json()["email"] == ADA["email"]


def test_what_the_override_hides_the_tenant_check(client, ada_by_override):
    """With the override, acme's Ada is served in globex: the tenant check never ran."""
    assert client.get("/users/me", headers=GLOBEX).status_code == 200


def test_a_real_token_of_acme_is_refused_in_globex(client, ada_by_token):
    response = client.get("/users/me", headers={**ada_by_token, **GLOBEX})
    assert response.status_code == 401
    assert response.json()["detail"] == "The token was issued for another tenant"


def test_what_the_override_hides_the_scope_check(client, ada_by_override):
    """Nobody asked which scopes the caller holds: the override answers Ada, whatever the token."""
    assert client.get("/users/me", headers={**ada_by_override, "Authorization": "Bearer any"}).status_code == 200


def test_a_real_token_without_the_me_scope_is_refused(client, ada_by_token):
    # Ada asks only for a scope a customer is not granted: her token carries no scope at all.
    tokens = log_in(client, ADA["email"], ADA["password"], scope="admin")
    response = client.get("/users/me", headers=bearer(tokens["access_token"], ACME))
    assert response.status_code == 403
    assert "insufficient_scope" in response.headers["WWW-Authenticate"]

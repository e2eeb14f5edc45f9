"""Exercise 06/token_info: GET /token/info answers what the caller's access token carries."""

from ..auth_helpers import ACME, GLOBEX, bearer, claims_of, log_in_as_admin


def info(client, token: str, headers=ACME):
    return client.get("/token/info", headers=bearer(token, headers))


def test_it_answers_the_tokens_user_tenant_and_scopes(client, ada):
    response = info(client, ada["access_token"])
    assert response.status_code == 200, f"GET /token/info should answer 200, got {response.status_code}"
    answer = response.json()
    assert {key: answer.get(key) for key in ("user_id", "tenant", "scopes")} == {
        "user_id": ada["user"]["id"],
        "tenant": "acme",
        "scopes": ["me"],
    }, "user_id is the token's sub as an integer; tenant and scopes as in the token"


def test_expires_in_counts_down_from_the_tokens_exp(client, ada):
    left = claims_of(client, ada["access_token"]).seconds_left()
    answer = info(client, ada["access_token"]).json()
    assert left - 2 <= answer.get("expires_in", -1) <= left, "expires_in is the seconds until the token's exp"


def test_an_admin_token_shows_the_admin_scope(client):
    admin = log_in_as_admin(client, "globex")
    answer = info(client, admin["access_token"], GLOBEX).json()
    assert (answer.get("tenant"), answer.get("scopes")) == ("globex", ["admin", "me"]), "the admin's token, in globex"


def test_a_refresh_token_or_no_token_is_refused_with_401(client, ada):
    assert info(client, ada["access_token"]).status_code == 200, "a valid access token must be answered first"
    assert info(client, ada["refresh_token"]).status_code == 401, "a refresh token is not an access token"
    assert client.get("/token/info", headers=ACME).status_code == 401, "no token at all is a 401"

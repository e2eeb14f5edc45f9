"""Exercise 06/logout_everywhere: POST /logout/everywhere makes every token of the caller stop working."""

from ..auth_helpers import ACME, ADA, GRACE, bearer, log_in, register


def me(client, token: str) -> int:
    return client.get("/users/me", headers=bearer(token)).status_code


def refresh(client, token: str) -> int:
    return client.post("/token/refresh", json={"refresh_token": token}, headers=ACME).status_code


def test_it_answers_204(client, ada):
    response = client.post("/logout/everywhere", headers=bearer(ada["access_token"]))
    assert response.status_code == 204, f"POST /logout/everywhere should answer 204, got {response.status_code}"


def test_every_token_of_every_log_in_stops_working(client, ada):
    phone = log_in(client, ADA["email"], ADA["password"])
    client.post("/logout/everywhere", headers=bearer(ada["access_token"]))
    assert (me(client, ada["access_token"]), me(client, phone["access_token"])) == (401, 401), (
        "both access tokens, this one and the phone's, must answer 401"
    )
    assert (refresh(client, ada["refresh_token"]), refresh(client, phone["refresh_token"])) == (401, 401), (
        "both refresh tokens must be refused too"
    )


def test_logging_in_again_works(client, ada):
    client.post("/logout/everywhere", headers=bearer(ada["access_token"]))
    fresh = log_in(client, ADA["email"], ADA["password"])
    assert me(client, fresh["access_token"]) == 200, "a log-in after logging out everywhere gives a working token"


def test_other_users_keep_their_tokens(client, ada):
    register(client, GRACE)
    grace = log_in(client, GRACE["email"], GRACE["password"])
    client.post("/logout/everywhere", headers=bearer(ada["access_token"]))
    assert me(client, grace["access_token"]) == 200, "only the caller's tokens stop working"

"""Exercise 11/sign_out_everywhere: DELETE /users/me/tokens; every process refuses every token of the user."""

import pytest

from ..auth_helpers import ACME, ADA, GRACE, bearer, log_in, log_in_as_admin, me, register
from .processes import admin_of_acme


def sign_out_everywhere(client, access_token: str):
    return client.delete("/users/me/tokens", headers=bearer(access_token))


def refresh(client, refresh_token: str):
    return client.post("/token/refresh", json={"refresh_token": refresh_token}, headers=ACME)


def test_every_token_of_every_log_in_is_refused_afterwards(client):
    register(client, ADA)
    # Three log-ins: a laptop, a phone, a shared computer. Each is a token family of its own.
    logins = [log_in(client, ADA["email"], ADA["password"]) for _ in range(3)]
    assert all(me(client, pair["access_token"]).status_code == 200 for pair in logins), "each log-in works at first"
    response = sign_out_everywhere(client, logins[1]["access_token"])
    assert response.status_code == 204, f"signing out everywhere: 204, got {response.status_code} {response.text}"
    for number, pair in enumerate(logins, start=1):
        assert me(client, pair["access_token"]).status_code == 401, f"log-in {number}'s access token is refused"
        assert refresh(client, pair["refresh_token"]).status_code == 401, (
            f"log-in {number}'s refresh token cannot bring it back"
        )
    again = log_in(client, ADA["email"], ADA["password"])
    assert me(client, again["access_token"]).status_code == 200, "a log-in afterwards works as before"
    assert refresh(client, again["refresh_token"]).status_code == 200, "and so does its refresh token"


def test_nobody_elses_tokens_are_touched(client):
    register(client, ADA)
    register(client, GRACE)
    ada = log_in(client, ADA["email"], ADA["password"])
    grace = log_in(client, GRACE["email"], GRACE["password"])
    admin = log_in_as_admin(client)
    assert sign_out_everywhere(client, ada["access_token"]).status_code == 204
    assert me(client, grace["access_token"]).status_code == 200, "Grace is still logged in"
    assert me(client, admin["access_token"]).status_code == 200, "and so is the admin"
    assert refresh(client, grace["refresh_token"]).status_code == 200, "Grace's refresh token still works"


def test_without_a_valid_token_there_is_nothing_to_end(client):
    assert client.delete("/users/me/tokens", headers=ACME).status_code == 401, "no token: 401"
    assert sign_out_everywhere(client, "not-a-token").status_code == 401, "a token that is not one: 401"
    admin = log_in_as_admin(client)
    assert sign_out_everywhere(client, admin["access_token"]).status_code == 204, "while a valid token may"


@pytest.mark.services
def test_every_process_refuses_the_tokens_any_process_issued(processes):
    # The demo admin logs in through each process: three families, each issued by another process.
    tokens = [admin_of_acme(client) for client in processes]
    for issued, headers in enumerate(tokens, start=1):
        for served, client in enumerate(processes, start=1):
            assert client.get("/users/me", headers=headers).status_code == 200, (
                f"the token issued by process {issued} works in process {served} at first"
            )
    response = processes[2].delete("/users/me/tokens", headers=tokens[0])
    assert response.status_code == 204, response.text
    for issued, headers in enumerate(tokens, start=1):
        for served, client in enumerate(processes, start=1):
            answer = client.get("/users/me", headers=headers)
            assert answer.status_code == 401, (
                f"process {served} refuses the token process {issued} issued, at once: got {answer.status_code}"
            )
    fresh = admin_of_acme(processes[1])
    assert [client.get("/users/me", headers=fresh).status_code for client in processes] == [200] * 3, (
        "a log-in afterwards is accepted by every process"
    )

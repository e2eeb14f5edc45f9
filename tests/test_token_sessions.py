"""Refresh with rotation and reuse detection, logout, and a password change that ends every session.

They run against every stage whose API has a /token route, each stage's app in turn.
"""

import pytest

from .auth_helpers import ACME, ADA, LOG_IN, bearer, claims_of, log_in, me
from .problems import error_body
from .stage_apps import run_redis, stage_app_fixture

stage_app = stage_app_fixture(*LOG_IN)


def refresh(client, token: str):
    return client.post("/token/refresh", json={"refresh_token": token}, headers=ACME)


def test_refresh_answers_a_new_pair_in_the_same_family(client, ada):
    response = refresh(client, ada["refresh_token"])
    assert response.status_code == 200
    new = response.json()
    assert new["access_token"] != ada["access_token"] and new["refresh_token"] != ada["refresh_token"]
    assert claims_of(client, new["access_token"]).fam == claims_of(client, ada["access_token"]).fam
    assert me(client, new["access_token"]).status_code == 200


@pytest.mark.services
def test_rotation_a_used_refresh_token_stops_working(client, ada):
    assert refresh(client, ada["refresh_token"]).status_code == 200
    again = refresh(client, ada["refresh_token"])
    assert again.status_code == 401
    assert error_body(again) == {
        "detail": "This refresh token was already used; every session it belongs to is now logged out"
    }


@pytest.mark.services
def test_reuse_revokes_the_whole_family_including_the_newest_tokens(client, ada):
    # The user refreshes (their newest pair), then a thief replays the stolen original.
    newest = refresh(client, ada["refresh_token"]).json()
    assert refresh(client, ada["refresh_token"]).status_code == 401  # reuse detected
    assert refresh(client, newest["refresh_token"]).status_code == 401  # the family is gone
    assert error_body(me(client, newest["access_token"])) == {"detail": "The token has been revoked"}
    assert me(client, ada["access_token"]).status_code == 401


def test_reuse_in_one_family_leaves_other_log_ins_alone(client, ada):
    laptop = log_in(client, ADA["email"], ADA["password"])
    refresh(client, ada["refresh_token"])
    refresh(client, ada["refresh_token"])  # reuse in the first family
    assert me(client, laptop["access_token"]).status_code == 200
    assert refresh(client, laptop["refresh_token"]).status_code == 200


def test_a_chain_of_refreshes_keeps_working(client, ada):
    token = ada["refresh_token"]
    for _ in range(5):
        response = refresh(client, token)
        assert response.status_code == 200
        token = response.json()["refresh_token"]


@pytest.mark.services
def test_logout_stops_the_access_token_at_once_and_revokes_its_refresh_token(client, ada):
    response = client.post("/logout", headers=bearer(ada["access_token"]))
    assert response.status_code == 204
    assert error_body(me(client, ada["access_token"])) == {"detail": "The token has been revoked"}
    assert error_body(refresh(client, ada["refresh_token"])) == {"detail": "The refresh token has been revoked"}
    assert client.post("/logout", headers=bearer(ada["access_token"])).status_code == 401


@pytest.mark.services
def test_logout_puts_the_jti_on_the_denylist_for_the_tokens_remaining_life(client, ada):
    claims = claims_of(client, ada["access_token"])
    left = claims.seconds_left()
    client.post("/logout", headers=bearer(ada["access_token"]))
    key = f"auth:acme:denied:{claims.jti}"
    assert run_redis(client, "exists", key) == 1
    assert left - 3 <= run_redis(client, "ttl", key) <= left


def test_logout_needs_a_token(client):
    assert client.post("/logout", headers=ACME).status_code == 401


def change_password(client, access_token: str, current: str, new: str):
    return client.post(
        "/users/me/password", json={"current_password": current, "new_password": new}, headers=bearer(access_token)
    )


@pytest.mark.services
def test_changing_the_password_invalidates_every_token_the_user_had(client, ada, rules):
    phone = log_in(client, ADA["email"], ADA["password"])
    response = change_password(client, ada["access_token"], ADA["password"], "a brand new passphrase")
    assert response.status_code == 204
    assert error_body(me(client, ada["access_token"])) == {"detail": rules.stale_token_detail}
    assert error_body(me(client, phone["access_token"])) == {"detail": rules.stale_token_detail}
    for token in (ada["refresh_token"], phone["refresh_token"]):
        assert error_body(refresh(client, token)) == {"detail": "The refresh token is no longer valid; log in again"}


def test_after_a_password_change_only_the_new_password_logs_in(client, ada):
    change_password(client, ada["access_token"], ADA["password"], "a brand new passphrase")
    old = client.post("/token", data={"username": ADA["email"], "password": ADA["password"]}, headers=ACME)
    assert (old.status_code, old.json()["error"]) == (400, "invalid_grant")
    new = log_in(client, ADA["email"], "a brand new passphrase")
    assert claims_of(client, new["access_token"]).ver == 1
    assert me(client, new["access_token"]).status_code == 200


def test_a_wrong_current_password_changes_nothing(client, ada):
    response = change_password(client, ada["access_token"], "not my password", "a brand new passphrase")
    assert response.status_code == 403
    assert error_body(response) == {"detail": "The current password is not correct"}
    assert me(client, ada["access_token"]).status_code == 200


@pytest.mark.parametrize("new", ["short", "é" * 37], ids=["too short", "74 bytes in 37 characters"])
def test_the_new_password_follows_the_same_rules(client, ada, new):
    response = change_password(client, ada["access_token"], ADA["password"], new)
    assert response.status_code == 422
    assert me(client, ada["access_token"]).status_code == 200

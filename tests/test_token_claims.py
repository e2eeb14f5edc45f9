"""Tokens signed with the real key whose claims are wrong: expired, from the future, for another
issuer or audience, missing a claim, a claim of the wrong shape, or the other kind of token. Each
must end in a 401 with the reason shown, never 500, with either JWT library (as in
test_token_attacks.py, which holds the attacks on the signature and the log-in).

They run against every stage whose API has a /token route, each stage's app in turn.
"""

from datetime import UTC, datetime, timedelta

import pytest

from .auth_helpers import ACME, LOG_IN, assert_refused, claims_for, me, segment, sign
from .problems import problems
from .stage_apps import stage_app_fixture

stage_app = stage_app_fixture(*LOG_IN)


@pytest.fixture
def auth_env(auth_env, jwt_library, monkeypatch) -> None:
    # The shared auth_env, plus the library: every test of this module runs with each.
    monkeypatch.setenv("WORKBOOK_JWT_LIBRARY", jwt_library)


# --- Times, issuer, audience, required claims ---------------------------------------------------


def test_an_expired_token_is_refused(client, ada):
    past = int(datetime.now(UTC).timestamp()) - 3600
    token = sign(client, claims_for(client, ada, iat=past - 60, nbf=past - 60, exp=past))
    assert_refused(me(client, token), "The token has expired")


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_a_token_from_the_future_is_refused(client, ada, claim):
    future = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
    token = sign(client, claims_for(client, ada, **{claim: future}))
    assert_refused(me(client, token), "The token is not valid")


@pytest.mark.parametrize("change", [{"iss": "someone-else"}, {"aud": "another-api"}, {"aud": ["another-api"]}])
def test_a_token_for_another_issuer_or_audience_is_refused(client, ada, change):
    token = sign(client, claims_for(client, ada, **change))
    assert_refused(me(client, token), "The token is not valid")


@pytest.mark.parametrize(
    "claim", ["iss", "aud", "sub", "iat", "nbf", "exp", "jti", "tenant", "type", "fam", "ver", "scopes"]
)
def test_a_token_missing_any_claim_is_refused(client, ada, claim):
    token = sign(client, claims_for(client, ada, **{claim: None}))
    assert_refused(me(client, token), "The token is not valid")


@pytest.mark.parametrize(
    "change",
    [
        {"sub": 2},
        {"sub": "admin"},
        {"sub": "0"},
        {"sub": ""},
        {"ver": -1},
        {"ver": "0"},
        {"scopes": "admin me"},
        {"type": "id"},
        {"exp": "9999999999"},
        {"jti": "short"},
    ],
    ids=str,
)
def test_a_claim_of_the_wrong_type_or_shape_is_refused(client, ada, change):
    token = sign(client, claims_for(client, ada, **change))
    assert_refused(me(client, token), "The token is not valid")


# --- One kind of token is never accepted as the other ----------------------------------------------


def test_a_refresh_token_is_not_a_bearer_token(client, ada):
    assert_refused(me(client, ada["refresh_token"]), "A refresh token cannot be used here; it needs the access token")


def test_an_access_token_cannot_refresh(client, ada):
    response = client.post("/token/refresh", json={"refresh_token": ada["access_token"]}, headers=ACME)
    assert_refused(response, "A access token cannot be used here; it needs the refresh token")


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_refresh_with_garbage_answers_401(client, token):
    assert_refused(client.post("/token/refresh", json={"refresh_token": token}, headers=ACME))


def test_text_that_is_not_even_utf_8_answers_401_or_422_not_500(client, ada):
    # A lone surrogate, sent as a JSON escape, is a Python str with no UTF-8 form.
    lone = '"\\ud800.a.b"'
    json_headers = {**ACME, "Content-Type": "application/json"}
    refresh = client.post("/token/refresh", content='{"refresh_token": ' + lone + "}", headers=json_headers)
    assert_refused(refresh, "The token is not valid")
    change = client.post(
        "/users/me/password",
        content='{"current_password": ' + lone + ', "new_password": "a fine new password"}',
        headers={**json_headers, "Authorization": f"Bearer {ada['access_token']}"},
    )
    assert change.status_code == 403
    register = client.post(
        "/users/register",
        content='{"email": "q@example.com", "name": "Q", "password": "\\ud800 and more"}',
        headers=json_headers,
    )
    assert register.status_code == 422
    assert problems(register)[0]["msg"] == "Value error, The password must be valid Unicode text"


def test_an_unsigned_refresh_token_is_refused(client, ada):
    claims = claims_for(client, ada, type="refresh")
    unsigned = f"{segment({'alg': 'none'})}.{segment(claims)}."
    assert_refused(client.post("/token/refresh", json={"refresh_token": unsigned}, headers=ACME))

"""Attacks on the tokens and the log-in, from RFC 8725 (JWT BCP), RFC 9700 (OAuth 2.0 security
BCP) and OWASP's authentication and JWT cheat sheets. Each must end in the exact status shown,
never 500, and never in a token that works. Each runs once with each JWT library the token service
can use (WORKBOOK_JWT_LIBRARY): PyJWT and python-jose must refuse the same tokens. A stage
without that setting signs with PyJWT alone, and runs them once.

They run against every stage whose API has a /token route, each stage's app in turn (a test's
id names the stage: `[pyjwt-07]`): a later stage rewires the checks, and must still refuse every one.
The forgeries that change a claim, re-signed with the real key, are in test_token_claims.py: a
file runs on one worker of `make test`, so the two share the load.
"""

import base64
import json
import warnings

import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from .auth_helpers import (
    ACME,
    ADA,
    GLOBEX,
    GRACE,
    LOG_IN,
    LOGIN_LIMIT,
    assert_refused,
    b64,
    bearer,
    claims_for,
    log_in,
    log_in_as_admin,
    me,
    register,
    segment,
    sign,
    token_service,
)
from .problems import error_body, problems
from .stage_apps import stage_app_fixture, stage_params

stage_app = stage_app_fixture(*LOG_IN)


@pytest.fixture
def auth_env(auth_env, jwt_library, monkeypatch) -> None:
    # The shared auth_env, plus the library: every test of this module runs with each.
    monkeypatch.setenv("WORKBOOK_JWT_LIBRARY", jwt_library)


@pytest.mark.parametrize("stage_app", stage_params(*LOG_IN, settings=["jwt_library"]), indirect=True)
def test_the_app_signs_and_checks_with_the_library_the_setting_names(client, ada, jwt_library):
    # Without this, a setting the app ignored would run every attack twice against one library.
    assert token_service(client).codec.name == jwt_library
    assert me(client, ada["access_token"]).status_code == 200


# --- No credentials, or not a bearer token --------------------------------------------------------


def test_no_token_answers_401_with_a_bearer_challenge(client, rules):
    response = client.get("/users/me", headers=ACME)
    assert response.status_code == 401
    assert error_body(response) == {"detail": "Not authenticated"}
    # The challenge names what the route needs, which grows with the stage (LogInRules).
    assert response.headers["www-authenticate"] == rules.challenge


@pytest.mark.parametrize("authorization", ["Bearer", "Bearer ", "Basic YWRhOnNlY3JldA==", "Token abc", "bearer"])
def test_a_missing_or_foreign_scheme_answers_401(client, authorization):
    response = client.get("/users/me", headers={**ACME, "Authorization": authorization})
    assert response.status_code == 401


def test_the_unchanged_claims_re_signed_are_accepted(client, ada):
    # The control for every forgery below: only what a test changes can make it fail.
    assert me(client, sign(client, claims_for(client, ada))).status_code == 200


# --- Malformed tokens ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "a.b.c",
        "....",
        "a.b.c.d.e",  # the shape of an encrypted JWT (JWE): not ours
        f"{segment({'alg': 'HS256'})}.{b64(b'[1, 2]')}.{b64(b'x')}",  # the payload is a list, not an object
        f"{b64(b'not json')}.{segment({'sub': '1'})}.{b64(b'x')}",
        f"{segment({'alg': 'HS256'})}.!!!.{b64(b'x')}",
    ],
    ids=["one segment", "garbage segments", "empty segments", "five segments", "list payload", "bad header", "bad b64"],
)
def test_malformed_tokens_answer_401_not_500(client, ada, token):
    assert_refused(me(client, token), "The token is not valid")


def test_a_huge_token_is_refused_before_it_is_parsed(client, ada):
    huge = ada["access_token"] + "A" * 100_000
    assert_refused(me(client, huge), "The token is too long")


# --- The algorithm is pinned (RFC 8725, sections 2.1 and 3.1) ----------------------------------------


def test_an_unsigned_token_alg_none_is_refused(client, ada):
    # The forger's favourite: no signature at all, and a header that says that is fine.
    unsigned = f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(claims_for(client, ada))}."
    assert_refused(me(client, unsigned), "The token is not valid")


@pytest.mark.parametrize("alg", ["None", "NONE", "nOnE"])
def test_alg_none_in_any_letter_case_is_refused(client, ada, alg):
    unsigned = f"{segment({'alg': alg})}.{segment(claims_for(client, ada))}."
    assert_refused(me(client, unsigned))


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_another_hmac_algorithm_with_the_real_key_is_refused(client, ada, algorithm):
    # Signed with OUR key, so the signature is genuine; only HS256 is accepted all the same.
    key = token_service(client)._key
    with warnings.catch_warnings():  # PyJWT notes that HS512 wants a longer key; the forger does not care
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        token = jwt.encode(claims_for(client, ada), key, algorithm=algorithm)
    assert_refused(me(client, token), "The token is not valid")


def test_algorithm_confusion_rs256_header_is_refused(client, ada):
    # A verifier that lets the header pick the algorithm can be fooled into
    # checking an "RS256" token with an HMAC key, or the reverse. Pinned: never.
    header = segment({"alg": "RS256", "typ": "JWT"})
    body = segment(claims_for(client, ada))
    assert_refused(me(client, f"{header}.{body}.{b64(b'x' * 256)}"))


def test_a_token_signed_with_another_key_is_refused(client, ada):
    token = jwt.encode(claims_for(client, ada), "an-attackers-key-of-a-decent-length!", "HS256")
    assert_refused(me(client, token), "The token is not valid")


def test_a_tampered_payload_with_the_original_signature_is_refused(client, ada):
    header, payload, signature = ada["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scopes"] = ["admin", "me"]  # promote ourselves, keep the signature
    assert_refused(me(client, f"{header}.{segment(claims)}.{signature}"))
    assert client.delete("/admin/users/1", headers=bearer(f"{header}.{segment(claims)}.{signature}")).status_code == 401


@pytest.mark.parametrize(
    "extra_header",
    [
        {"kid": "../../../../dev/null"},
        {"kid": "' UNION SELECT 'key"},
        {"jku": "https://attacker.example/jwks.json"},
        {"jwk": {"kty": "oct", "k": b64(b"an-attackers-key-of-a-decent-length!")}},
        {"x5u": "https://attacker.example/cert.pem"},
    ],
    ids=["kid path", "kid sql", "jku", "embedded jwk", "x5u"],
)
def test_key_choosing_headers_are_ignored(client, ada, extra_header):
    # The attacker signs with their own key and points the header at it: we never look.
    claims = claims_for(client, ada)
    forged = jwt.encode(claims, "an-attackers-key-of-a-decent-length!", "HS256", headers=extra_header)
    assert_refused(me(client, forged))
    # Our own signature is what decides: the same header on a token WE signed changes nothing.
    genuine = jwt.encode(claims, token_service(client)._key, "HS256", headers=extra_header)
    assert me(client, genuine).status_code == 200


# --- Tenants ---------------------------------------------------------------------------------------


@pytest.mark.services
def test_a_token_issued_in_one_tenant_is_refused_in_another(client, ada):
    assert_refused(me(client, ada["access_token"], GLOBEX), "The token was issued for another tenant")
    response = client.post("/token/refresh", json={"refresh_token": ada["refresh_token"]}, headers=GLOBEX)
    assert_refused(response, "The token was issued for another tenant")


def test_an_admin_of_one_tenant_cannot_delete_in_another(client, ada):
    globex_admin = log_in_as_admin(client, "globex")
    response = client.delete(f"/admin/users/{ada['user']['id']}", headers=bearer(globex_admin["access_token"]))
    assert_refused(response, "The token was issued for another tenant")
    assert me(client, ada["access_token"]).status_code == 200


def test_a_user_cannot_log_in_to_a_tenant_they_do_not_belong_to(client, ada):
    response = client.post("/token", data={"username": ADA["email"], "password": ADA["password"]}, headers=GLOBEX)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


# --- Tokens that outlive what they stood for ---------------------------------------------------------


def test_a_token_for_a_deleted_user_is_refused(client, ada):
    admin = log_in_as_admin(client)
    assert client.delete(f"/admin/users/{ada['user']['id']}", headers=bearer(admin["access_token"])).status_code == 204
    assert_refused(me(client, ada["access_token"]), "The token's user no longer exists")
    response = client.post("/token/refresh", json={"refresh_token": ada["refresh_token"]}, headers=ACME)
    assert_refused(response, "The refresh token is no longer valid; log in again")


def test_a_token_with_a_stale_version_is_refused(client, ada):
    stale = token_service(client).issue(
        "access", user_id=ada["user"]["id"], tenant="acme", version=7, scopes=["me"], family="f" * 32
    )
    assert_refused(me(client, stale.token))


@pytest.mark.services
def test_a_deleted_users_id_is_never_reused_so_their_token_cannot_open_a_newcomers_account(client, ada):
    admin = log_in_as_admin(client)
    client.delete(f"/admin/users/{ada['user']['id']}", headers=bearer(admin["access_token"]))
    newcomer = register(client, GRACE)
    assert newcomer["id"] != ada["user"]["id"]
    assert_refused(me(client, ada["access_token"]), "The token's user no longer exists")


# --- Brute force -----------------------------------------------------------------------------------


def test_guessing_passwords_hits_the_log_in_limit_then_even_the_right_one_waits(limited_client):
    register(limited_client, ADA)
    statuses = [
        limited_client.post(
            "/token", data={"username": ADA["email"], "password": f"guess {n}"}, headers=ACME
        ).status_code
        for n in range(LOGIN_LIMIT)
    ]
    assert statuses == [400] * LOGIN_LIMIT
    right = limited_client.post("/token", data={"username": ADA["email"], "password": ADA["password"]}, headers=ACME)
    assert right.status_code == 429
    assert right.json()["error"] == "slow_down"
    assert 1 <= int(right.headers["retry-after"]) <= 60


def test_the_log_in_limit_counts_per_tenant(limited_client):
    register(limited_client, ADA)
    for n in range(LOGIN_LIMIT + 1):
        limited_client.post("/token", data={"username": ADA["email"], "password": f"guess {n}"}, headers=ACME)
    response = limited_client.post(
        "/token", data={"username": "x@example.com", "password": "whatever1"}, headers=GLOBEX
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


def test_a_password_too_long_for_bcrypt_at_log_in_is_a_plain_invalid_grant_not_a_500(client, ada):
    response = client.post("/token", data={"username": ADA["email"], "password": "x" * 500}, headers=ACME)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert response.json()["detail"] == "Incorrect email or password"


def test_a_stolen_token_cannot_change_the_password_without_the_current_one(client, ada):
    response = client.post(
        "/users/me/password",
        json={"current_password": "a wild guess", "new_password": "taken over 12345"},
        headers=bearer(ada["access_token"]),
    )
    assert response.status_code == 403
    assert log_in(client, ADA["email"], ADA["password"])["token_type"] == "bearer"


# --- Text bcrypt or PostgreSQL cannot take: a 422 at validation, never a 500 -----------------------

NUL_PASSWORD = "correct horse\x00battery"


@pytest.mark.services
def test_a_nul_character_in_a_password_answers_422_on_register_log_in_and_change(client, ada):
    # bcrypt refuses a NUL byte (older releases silently cut the password there).
    register = client.post("/users/register", json={**GRACE, "password": NUL_PASSWORD}, headers=ACME)
    assert register.status_code == 422
    assert problems(register)[0]["msg"] == "Value error, The password must not contain the NUL character"
    log_in_form = {"username": ADA["email"], "password": NUL_PASSWORD}
    log_in_response = client.post("/token", data=log_in_form, headers=ACME)
    # /token answers a malformed form as RFC 6749 has it: 400 invalid_request, naming the field.
    assert (log_in_response.status_code, log_in_response.json()["error"]) == (400, "invalid_request")
    assert log_in_response.json()["error_description"].startswith("password:")
    for body in (
        {"current_password": NUL_PASSWORD, "new_password": "a fine new password"},
        {"current_password": ADA["password"], "new_password": NUL_PASSWORD},
    ):
        change = client.post("/users/me/password", json=body, headers=bearer(ada["access_token"]))
        assert change.status_code == 422, body
    # Ada's password is unchanged: she logs in with it.
    log_in(client, ADA["email"], ADA["password"])


@pytest.mark.services
def test_a_nul_character_in_a_log_in_username_or_a_name_answers_422(client):
    response = client.post("/token", data={"username": "ada\x00@example.com", "password": "whatever"}, headers=ACME)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")
    assert response.json()["error_description"].startswith("username:")
    register = client.post("/users/register", json={**GRACE, "name": "Grace\x00Hopper"}, headers=ACME)
    assert (register.status_code, problems(register)[0]["loc"]) == (422, ["body", "name"])

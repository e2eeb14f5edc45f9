"""POST /token: the password flow, and a log-in that does not tell which emails have accounts.

Its errors take the shape of RFC 6749, section 5.2 (tests/test_token_errors.py holds those tests).
"""

import statistics
import time

import pytest

from lessons.s06_oauth2_jwt.passwords import PasswordHasher

from ..auth_helpers import ACME, ADA, bearer, claims_of, log_in, register

WRONG = {"username": ADA["email"], "password": "not her password"}
UNKNOWN = {"username": "nobody@example.com", "password": "not her password"}


def test_log_in_answers_a_token_pair(client):
    user = register(client, ADA)
    pair = log_in(client, ADA["email"], ADA["password"])
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in", "scope"}
    assert (pair["token_type"], pair["scope"]) == ("bearer", "me")
    assert 890 <= pair["expires_in"] <= 900  # 15 minutes
    access, refresh = claims_of(client, pair["access_token"]), claims_of(client, pair["refresh_token"], "refresh")
    assert (access.user_id, access.tenant, access.type, access.scopes, access.ver) == (
        user["id"],
        "acme",
        "access",
        ["me"],
        0,
    )
    assert (refresh.type, refresh.fam) == ("refresh", access.fam)  # one family per log-in
    assert access.jti != refresh.jti
    assert refresh.exp - refresh.iat == 7 * 24 * 3600


def test_the_token_opens_the_users_own_routes(client):
    register(client, ADA)
    pair = log_in(client, ADA["email"], ADA["password"])
    assert client.get("/users/me", headers=bearer(pair["access_token"])).json()["email"] == ADA["email"]


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(client):
    register(client, ADA)
    wrong = client.post("/token", data=WRONG, headers=ACME)
    unknown = client.post("/token", data=UNKNOWN, headers=ACME)
    assert (wrong.status_code, wrong.json(), dict(wrong.headers)) == (
        unknown.status_code,
        unknown.json(),
        dict(unknown.headers),
    )
    assert wrong.status_code == 400
    assert wrong.json() == {
        "error": "invalid_grant",
        "error_description": "Incorrect email or password",
        "detail": "Incorrect email or password",
    }


def test_an_unknown_email_is_checked_against_the_dummy_hash(client, monkeypatch):
    """The timing defence is real: an unknown email costs a full bcrypt verify, on the dummy hash."""
    hasher: PasswordHasher = client.app_state["passwords"]
    checked: list[str] = []
    real_verify = hasher.context.verify

    def recording_verify(password, password_hash):
        checked.append(password_hash)
        return real_verify(password, password_hash)

    monkeypatch.setattr(hasher.context, "verify", recording_verify)
    client.post("/token", data=UNKNOWN, headers=ACME)
    assert checked == [hasher.dummy_hash]
    assert hasher.dummy_hash.startswith("$2b$04$")  # the same cost as real hashes in this app


def median_seconds(client, form: dict, times: int = 7) -> float:
    durations = []
    for _ in range(times):
        started = time.perf_counter()
        assert client.post("/token", data=form, headers=ACME).status_code == 400
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


@pytest.fixture
def slow_hash_client(auth_env, monkeypatch):
    """bcrypt at cost 10 (tens of milliseconds): slow enough to dominate the request time."""
    from .conftest import serve

    monkeypatch.setenv("WORKBOOK_BCRYPT_ROUNDS", "10")
    # Dozens of wrong passwords from one address: every budget wide enough not to interfere.
    monkeypatch.setenv("WORKBOOK_LOGIN_ATTEMPTS_PER_MINUTE", "100")
    monkeypatch.setenv("WORKBOOK_LOGIN_FAILURES_PER_CLIENT", "100")
    monkeypatch.setenv("WORKBOOK_LOGIN_FAILURES_BEFORE_BACKOFF", "100")
    yield from serve()


def test_an_unknown_email_takes_about_as_long_as_a_wrong_password(slow_hash_client):
    register(slow_hash_client, ADA)
    wrong, unknown = median_seconds(slow_hash_client, WRONG), median_seconds(slow_hash_client, UNKNOWN)
    # Without the dummy verify the unknown email would answer in well under a
    # tenth of the time; with it the two are within a factor of two either way.
    assert 0.5 < unknown / wrong < 2, (unknown, wrong)


def test_the_tenant_can_come_from_client_id_as_the_docs_dialog_sends_it(client):
    register(client, ADA)
    response = client.post("/token", data={"username": ADA["email"], "password": ADA["password"], "client_id": "acme"})
    assert response.status_code == 200
    assert claims_of(client, response.json()["access_token"]).tenant == "acme"


def test_a_header_and_a_client_id_that_disagree_answer_400(client):
    register(client, ADA)
    form = {"username": ADA["email"], "password": ADA["password"], "client_id": "globex"}
    response = client.post("/token", data=form, headers=ACME)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.json()["detail"] == "X-Tenant-ID and client_id name different tenants"


def test_no_tenant_at_all_answers_400(client):
    response = client.post("/token", data={"username": ADA["email"], "password": ADA["password"]})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("tenant", ["initech", "Acme;DROP"], ids=["unknown", "invalid"])
def test_an_unknown_or_invalid_tenant_in_client_id_is_refused(client, tenant):
    response = client.post("/token", data={"username": "a@example.com", "password": "whatever1", "client_id": tenant})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"  # the tenant is the OAuth2 client
    assert ("No tenant" in response.json()["detail"]) == (tenant == "initech")


def test_requested_scopes_narrow_the_grant_and_cannot_widen_it(client):
    register(client, ADA)
    asked_for_admin = log_in(client, ADA["email"], ADA["password"], scope="me admin")
    assert asked_for_admin["scope"] == "me"
    admin = log_in(client, "admin@acme.example", "storefront-demo-admin", scope="me")
    assert admin["scope"] == "me"
    assert claims_of(client, admin["access_token"]).scopes == ["me"]


def test_without_the_dummy_verify_the_timing_gives_unknown_emails_away(slow_hash_client, monkeypatch):
    # The control for the test above: skip the dummy verify and the gap is plain to measure.
    monkeypatch.setattr(PasswordHasher, "verify_unknown_user", lambda self, password: False)
    register(slow_hash_client, ADA)
    wrong, unknown = median_seconds(slow_hash_client, WRONG), median_seconds(slow_hash_client, UNKNOWN)
    assert unknown / wrong < 0.5, (unknown, wrong)

"""GET /products/{sku} is open to anyone, and a Bearer token sent with it is checked as everywhere else.

The read is fast because each process remembers what it checked (tokens.py: a token's
signature; token_versions.py: a user's token version, for at most a few seconds), and
these tests hold the guarantees that must survive it: a logged-out token is refused at
once, a forged or expired one always, a token made stale by a password change once the
remembered version is older than its bound.
"""

import asyncio
import time

import pytest
from redis.asyncio import Redis

from workbook.serving import free_port

from ..auth_helpers import ACME, ADA, bearer, claims_for, sign
from ..problems import error_body

PRODUCT = "/products/MUG-001"


def read(client, token: str | None = None):
    return client.get(PRODUCT, headers=bearer(token) if token else ACME)


def test_anyone_reads_a_product_and_a_signed_in_caller_too(client, ada):
    anonymous, signed_in = read(client), read(client, ada["access_token"])
    assert anonymous.status_code == signed_in.status_code == 200
    assert anonymous.json() == signed_in.json()


@pytest.mark.services
def test_a_logged_out_token_is_refused_on_the_next_read(client, ada):
    token = ada["access_token"]
    assert read(client, token).status_code == 200, "checked and remembered"
    assert client.post("/logout", headers=bearer(token)).status_code == 204
    response = read(client, token)
    assert response.status_code == 401
    assert error_body(response)["detail"] == "The token has been revoked"


def test_a_forged_or_garbled_token_is_refused_not_read_as_anonymous(client, ada):
    header, payload, signature = ada["access_token"].split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    for token in (forged, "not-a-token"):
        response = read(client, token)
        assert response.status_code == 401, token
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_remembered_token_is_refused_once_it_has_expired(client, ada, stage_app):
    leeway = stage_app.module("tokens").LEEWAY.total_seconds()
    # A token a few seconds from the end of its leeway: valid now, expired soon.
    expires = time.time() - leeway + 3
    token = sign(client, claims_for(client, ada, exp=int(expires)))
    assert read(client, token).status_code == 200, "checked and remembered"
    time.sleep(max(int(expires) + leeway - time.time() + 0.2, 0))
    response = read(client, token)
    assert response.status_code == 401
    assert error_body(response)["detail"] == "The token has expired"


def test_a_password_change_refuses_the_old_token_once_the_remembered_version_is_older_than_its_bound(client, ada):
    versions = client.app_state["token_versions"]
    versions.max_age = 0.3  # the bound, shortened for the test: the mechanism is the same
    token = ada["access_token"]
    assert read(client, token).status_code == 200, "the version is remembered now"
    change = {"current_password": ADA["password"], "new_password": "a-new-passphrase-for-ada"}
    assert client.post("/users/me/password", json=change, headers=bearer(token)).status_code == 204
    time.sleep(versions.max_age)
    response = read(client, token)
    assert response.status_code == 401
    assert "password or role change" in error_body(response)["detail"]


def test_the_remembered_versions_are_bounded_in_number(client, stage_app):
    versions_module = stage_app.module("token_versions")
    tenant = client.app_state["tenants"].get("acme")
    versions = versions_module.TokenVersions(max_age=60, max_entries=3)
    for user_id in range(1, 6):
        asyncio.run(versions.current(tenant, user_id))
    assert len(versions._read) == 3
    assert [user_id for _, user_id in versions._read] == [3, 4, 5], "the oldest went first"


@pytest.mark.services
def test_a_signed_in_read_asks_redis_once(client, ada, monkeypatch):
    """Rate limit, denylist and family in one round trip (read_gate.py), on either tier."""
    token = ada["access_token"]
    assert read(client, token).status_code == 200, "the product and the token version are remembered now"
    sent: list[bytes] = []
    connection_class = client.app_state["redis"].connection_pool.connection_class
    original = connection_class.send_packed_command

    async def counted(self, command, *args, **kwargs):
        sent.append(b"".join(command) if isinstance(command, list) else command)
        return await original(self, command, *args, **kwargs)

    monkeypatch.setattr(connection_class, "send_packed_command", counted)
    assert read(client, token).status_code == 200
    assert len(sent) == 1, sent
    assert b"EVAL" in sent[0] and b"rate-limit:acme:" in sent[0] and b":denied:" in sent[0]


def test_with_redis_out_of_reach_a_signed_in_read_answers_503_and_an_anonymous_one_goes_through(
    client, ada, monkeypatch
):
    """Whether the token was logged out cannot be checked without Redis: refused, as the service's
    passing fault (store_outage.py), never a 500; an anonymous read has nothing to check."""
    nowhere = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    monkeypatch.setitem(client.app_state, "redis", nowhere)
    response = read(client, ada["access_token"])
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"].isdigit()
    assert "try again" in error_body(response)["detail"]
    assert read(client).status_code == 200

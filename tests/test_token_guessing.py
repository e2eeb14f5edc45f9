"""Password guessing at one account, and the owner's way in meanwhile (login_throttling.py).

They run against every stage whose API has a /token route, each stage's app in turn. The
attacks from many addresses run against a real server: each client binds its own loopback
address (Linux routes all of 127.0.0.0/8 to lo), so the app sees ten attackers, the owner at
home, and the owner somewhere new.
"""

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2
import pytest

from .auth_helpers import ACME, ADA, LOG_IN, LOGIN_LIMIT, log_in, register
from .problems import error_body
from .stage_apps import run_redis, stage_app_fixture

stage_app = stage_app_fixture(*LOG_IN)

ATTACKERS = [f"127.0.0.{n}" for n in range(10, 20)]
HOME = "127.0.0.2"
NEW_PLACE = "127.0.0.3"
PER_CLIENT = 5  # the default budget of wrong passwords per account and address
FREE_FAILURES = 10  # the default number of wrong passwords before the account makes new addresses wait


def from_address(url: str, address: str) -> httpx2.Client:
    return httpx2.Client(base_url=url, transport=httpx2.HTTPTransport(local_address=address), headers=ACME, timeout=30)


def try_password(client, email: str, password: str):
    return client.post("/token", data={"username": email, "password": password}, headers=ACME)


# The answer of every refused log-in, from either budget: RFC 6749's shape, seconds masked.
WAIT = "Too many log-in attempts; try again in N seconds"
SLOW_DOWN = (429, f'{{"error":"slow_down","error_description":"{WAIT}","detail":"{WAIT}"}}')


def masked(response) -> tuple[int, str]:
    """Status and body (as the stages before problem details send it) with the seconds left masked.

    The seconds tick while a test runs.
    """
    body = json.dumps(error_body(response), separators=(",", ":"), ensure_ascii=False)
    return response.status_code, re.sub(r"\d+", "N", body)


@pytest.fixture
def served(auth_env, stage_app, database_url, monkeypatch, tmp_path) -> Iterator[str]:
    # The first wait is long enough (60 s) that nothing in a test outlives it, however busy
    # the machine; the per-address budget of the log-in route stays at its default, 10 a minute.
    monkeypatch.setenv("WORKBOOK_LOGIN_BACKOFF_FIRST_SECONDS", "60")
    if database_url == "sqlite://":
        # A file, not memory: Ada is registered here, in this process, and the server must find her.
        monkeypatch.setenv("WORKBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    with contextmanager(stage_app.serve)() as client:
        register(client, ADA)  # the database outlives this client: the file is the test's
    with stage_app.running() as url:
        yield url


def attack(url: str, email: str, guesses: int = 100) -> list:
    """`guesses` wrong passwords for `email`, taking turns among ten addresses."""
    clients = [from_address(url, address) for address in ATTACKERS]
    try:
        return [try_password(clients[n % len(clients)], email, f"guess number {n}") for n in range(guesses)]
    finally:
        for client in clients:
            client.close()


@pytest.mark.parametrize("email", [ADA["email"], "nobody@example.com"], ids=["real-account", "unknown-account"])
@pytest.mark.services
def test_a_hundred_guesses_from_ten_addresses_get_eleven_checked(served, email):
    responses = attack(served, email)
    # Before: all 100 were checked (10 addresses x 10 a minute). Now the account's first
    # ten wrong passwords are free, the eleventh makes every new address wait, and no
    # attacker address has ever logged in to it.
    assert [response.status_code for response in responses] == [400] * (FREE_FAILURES + 1) + [429] * 89
    refused = {masked(response) for response in responses[FREE_FAILURES + 1 :]}
    assert refused == {SLOW_DOWN}
    assert all(int(response.headers["Retry-After"]) > 0 for response in responses[FREE_FAILURES + 1 :])


@pytest.mark.services
def test_an_unknown_account_is_throttled_with_the_same_answers_as_a_real_one(served):
    real, unknown = attack(served, ADA["email"], 20), attack(served, "nobody@example.com", 20)
    assert [masked(response) for response in real] == [masked(response) for response in unknown]


@pytest.mark.services
def test_the_owner_logs_in_from_a_known_address_during_the_attack(served):
    with from_address(served, HOME) as home, from_address(served, NEW_PLACE) as new_place:
        assert try_password(home, ADA["email"], ADA["password"]).status_code == 200  # home is known from now on
        attack(served, ADA["email"])
        # Somewhere new, even the right password waits: it might be the attacker's.
        assert try_password(new_place, ADA["email"], ADA["password"]).status_code == 429
        # At home, the attack changes nothing: a typo costs one of home's own tries, no more.
        assert try_password(home, ADA["email"], "a typo in it").status_code == 400
        assert try_password(home, ADA["email"], ADA["password"]).status_code == 200


def test_one_address_gets_five_wrong_passwords_per_account_then_waits_even_with_the_right_one(client):
    register(client, ADA)
    statuses = [try_password(client, ADA["email"], f"guess number {n}").status_code for n in range(PER_CLIENT)]
    assert statuses == [400] * PER_CLIENT
    refused = try_password(client, ADA["email"], ADA["password"])
    assert masked(refused) == SLOW_DOWN
    # Not a minute: the rest of the fifteen-minute window.
    assert 60 < int(refused.headers["Retry-After"]) <= 15 * 60


def test_a_successful_log_in_gives_the_address_its_budget_back(client):
    register(client, ADA)
    for _ in range(2):
        statuses = [try_password(client, ADA["email"], f"typo {n}").status_code for n in range(PER_CLIENT - 1)]
        assert statuses == [400] * (PER_CLIENT - 1)
        log_in(client, ADA["email"], ADA["password"])


def test_the_budget_per_address_still_counts_every_account(limited_client):
    # The per-address budget (LOGIN_LIMIT a minute, whatever the account) is kept: one address
    # spraying one password over many accounts gets no more than it did.
    statuses = [
        try_password(limited_client, f"user{n}@example.com", "Summer2024!").status_code for n in range(LOGIN_LIMIT + 1)
    ]
    assert statuses == [400] * LOGIN_LIMIT + [429]


def test_every_key_the_throttle_writes_expires_and_names_no_email(client):
    register(client, ADA)
    for n in range(2):
        assert try_password(client, ADA["email"], f"typo {n}").status_code == 400
    log_in(client, ADA["email"], ADA["password"])
    assert try_password(client, ADA["email"], "one more typo").status_code == 400
    # The per-address budget's key (login-attempts:...) is the rate limiter's, tested elsewhere.
    keys = [key for key in run_redis(client, "keys", "login-*") if not key.startswith("login-attempts:")]
    assert len(keys) == 3  # this address's failures, the account's failures, the known addresses
    assert all(run_redis(client, "ttl", key) > 0 for key in keys)
    assert not any("ada" in key.lower() for key in keys)

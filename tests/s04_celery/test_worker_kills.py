"""Workers killed mid-run: no welcome email is lost, and duplicates stay within what services.py promises.

A stack of its own, with two pool processes, short timings (a claim lease of 3 s,
a relay every second) and a mail server that waits a moment between storing a
message and answering 250: the window in which a death can cost a duplicate is
made wide on purpose, so that the kills land in it and the bound is tested.
"""

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2
import psutil
import pytest
import redis

from lessons.s04_celery.settings import Settings
from lessons.s04_celery.worker import visibility_timeout_seconds
from workbook.doctor import service_urls
from workbook.mail_server import messages, read_message
from workbook.stack import Stack, running_stack
from workbook.stages import ROOT, get_stage

from ..stack_tiers import postgres_database
from .conftest import FAST_RETRIES, mail_to

pytestmark = pytest.mark.services

ACME = {"X-Tenant-ID": "acme"}
REGISTRATIONS = 30
KILLS = 5
CLAIM_SECONDS = 3
SETTINGS = {
    **FAST_RETRIES,
    "WORKBOOK_SMTP_TIMEOUT_SECONDS": "0.25",  # the longest send: 8 steps x 0.25 s = 2 s, inside the lease
    "WORKBOOK_WELCOME_CLAIM_SECONDS": str(CLAIM_SECONDS),
    "WORKBOOK_WELCOME_RELAY_SECONDS": "1",
}

PATIENT = {**SETTINGS, "WORKBOOK_SMTP_TIMEOUT_SECONDS": "1", "WORKBOOK_WELCOME_CLAIM_SECONDS": "9"}
VISIBILITY_SECONDS = 17  # 2 x (a 0.2 s cap + 8 SMTP steps x 1 s), rounded up, as worker.py derives it


@contextmanager
def kill_stack(request, tmp_path, settings: dict[str, str]) -> Iterator[Stack]:
    """A stack of the test's own (two pool processes), embedded, or on real Redis and PostgreSQL with --services."""
    options = {"mailbox": tmp_path / "mailbox", "extra_env": settings, "concurrency": 2}
    if not request.config.getoption("services"):
        with running_stack(get_stage("04"), **options) as running:
            yield running
        return
    server = redis.Redis.from_url(service_urls()[1])
    server.flushdb()
    with postgres_database() as database_url:
        with running_stack(get_stage("04"), redis_url=service_urls()[1], database_url=database_url, **options) as s:
            yield s
    server.flushdb()
    server.close()


@pytest.fixture
def stack(request, tmp_path) -> Iterator[Stack]:
    with kill_stack(request, tmp_path, SETTINGS) as running:
        yield running


@pytest.fixture
def patient_stack(request, tmp_path) -> Iterator[Stack]:
    """A mail server allowed 1 s per SMTP step: the longest send is 8 s, the claim lease 9 s, and
    the visibility timeout 2 x (0.2 s cap + 8 s) = 17 s (worker.py)."""
    with kill_stack(request, tmp_path, PATIENT) as running:
        yield running


def slow_to_answer(stack: Stack, seconds: float) -> None:
    """The mail server stores each message, then waits before its 250: the duplicate window, widened."""
    store = stack.mail.handler.handle_DATA

    async def handle_DATA(server, session, envelope) -> str:
        answer = await store(server, session, envelope)
        await asyncio.sleep(seconds)
        return answer

    stack.mail.handler.handle_DATA = handle_DATA


def slow_to_take_recipients(stack: Stack, seconds: float) -> None:
    """The mail server waits before accepting each recipient: a run is mid-send, nothing stored yet."""

    async def handle_RCPT(server, session, envelope, address, rcpt_options) -> str:
        await asyncio.sleep(seconds)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    stack.mail.handler.handle_RCPT = handle_RCPT


def pool_processes(stack: Stack, timeout: float = 20) -> list[psutil.Process]:
    """The worker's pool processes, once it has some: it replaces a killed one within a moment."""
    deadline = time.monotonic() + timeout
    while not (children := psutil.Process(stack.services["worker"].process.pid).children()):
        assert time.monotonic() < deadline, "the worker did not replace its killed pool processes"
        time.sleep(0.05)
    return children


def test_killing_pool_processes_mid_run_loses_no_email(stack):
    slow_to_answer(stack, 0.1)
    rng = random.Random(4)
    addresses = [f"kill{number}@example.com" for number in range(REGISTRATIONS)]
    kills = 0
    with httpx2.Client(base_url=stack.app_url, headers={"X-Tenant-ID": "acme"}) as client:
        for number, address in enumerate(addresses):
            response = client.post("/users/register", json={"email": address, "name": f"Victim {number}"})
            assert response.status_code == 201, response.text
            if number % (REGISTRATIONS // KILLS) == REGISTRATIONS // KILLS - 1:
                time.sleep(rng.uniform(0.02, 0.15))  # somewhere inside a run, most likely mid-send
                rng.choice(pool_processes(stack)).kill()  # SIGKILL: no clean-up, no ack; the main process requeues
                kills += 1
    # Every email arrives: redelivery, retries once the dead run's lease ends, and the relay for any
    # whose retries ran out against a dead run's claim.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        received = Counter(read_message(path)["To"] for path in messages(stack.mail.directory))
        if all(received[address] for address in addresses):
            break
        time.sleep(0.25)
    time.sleep(CLAIM_SECONDS + 2)  # a duplicate comes only after a dead run's lease: give it time to show
    copies = [read_message(path) for path in messages(stack.mail.directory)]
    received = Counter(message["To"] for message in copies)
    lost = [address for address in addresses if received[address] == 0]
    duplicates = sum(count - 1 for count in received.values())
    print(f"{kills} kills over {REGISTRATIONS} registrations: {len(lost)} lost, {duplicates} duplicated")
    assert kills == KILLS
    assert lost == [], f"{len(lost)} welcome emails lost"
    assert duplicates <= kills, "each death can cost at most one duplicate (services.py, WelcomeEmails)"
    message_ids = {message["To"]: set() for message in copies}
    for message in copies:
        message_ids[message["To"]].add(message["Message-ID"])
    assert all(len(ids) == 1 for ids in message_ids.values()), "every copy of one email carries one Message-ID"
    relays = [line for line in stack.lines("beat") if "Sending due task relay-welcome-outbox" in line]
    assert relays, "Celery beat runs the outbox relay on its schedule"


def test_a_message_held_by_a_killed_worker_comes_back_within_the_visibility_timeout(patient_stack, tmp_path):
    """The whole worker is killed (main process and pool) while it holds a task: only the broker
    can give the message back, after the visibility timeout: 17 s here, derived from the settings
    (worker.py). kombu's default would keep it an hour."""
    stack = patient_stack
    patient = Settings(welcome_retry_cap_seconds=0.2, smtp_timeout_seconds=1, welcome_claim_seconds=9)
    assert visibility_timeout_seconds(patient) == VISIBILITY_SECONDS
    slow_to_take_recipients(stack, 0.5)  # the run is mid-send, its message unacknowledged, when the kill comes
    worker = stack.services["worker"]
    response = httpx2.post(
        f"{stack.app_url}/users/register", json={"email": "held@example.com", "name": "Held"}, headers=ACME
    )
    assert response.status_code == 201, response.text
    deadline = time.monotonic() + 20
    while not any("welcome" in line and "received" in line for line in worker.lines):
        assert time.monotonic() < deadline, "the worker never received the task"
        time.sleep(0.05)
    time.sleep(0.3)
    killed_at = time.monotonic()
    os.killpg(worker.process.pid, signal.SIGKILL)  # the main process and its pool: nobody left to requeue
    worker.process.wait()
    command = [sys.executable, "-m", "celery", "-A", "lessons.s04_celery.worker", "worker", "--pool=solo",
               "--without-gossip", "--without-mingle", "--hostname", "stand-in@%h", "--loglevel=INFO"]  # fmt: skip
    with open(tmp_path / "stand-in.log", "w") as log:
        stand_in = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **stack.env}, stdout=log, stderr=subprocess.STDOUT,
            process_group=0,
        )  # fmt: skip
    ready_at = None
    try:
        deadline = killed_at + 150  # generous: the stand-in's start-up is slow on a busy machine
        while not mail_to(stack.mail.directory, "held@example.com"):
            if ready_at is None and " ready." in (tmp_path / "stand-in.log").read_text():
                ready_at = time.monotonic()
            assert time.monotonic() < deadline, (
                "the message never came back from the broker:\n" + (tmp_path / "stand-in.log").read_text()[-3000:]
            )
            time.sleep(0.25)
    finally:
        os.killpg(stand_in.pid, signal.SIGTERM)
        stand_in.wait(timeout=30)
    assert ready_at is not None, "the stand-in worker sent it before it said it was ready?"
    # Once the stand-in is up: the rest of the 17 s timeout, its first sweep for such messages
    # (every 10 s), the send against slow recipients. Kombu's default would be an hour.
    waited = time.monotonic() - max(ready_at, killed_at + VISIBILITY_SECONDS)
    assert waited < 10 + 15, f"{waited:.1f} s after the timeout ran out and the stand-in was ready"
    stand_in_log = (tmp_path / "stand-in.log").read_text()
    assert "welcome.sent" in stand_in_log, "the stand-in worker sent it: the broker gave the message back"
    assert len(mail_to(stack.mail.directory, "held@example.com")) == 1, "the killed run never got to DATA"

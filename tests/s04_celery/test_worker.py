"""A real Celery worker process, on the embedded broker (or real Redis with --services).

One stack (broker, mail server, worker, app) serves the whole module; every
request goes over HTTP to the app in its own process, as a learner's would.
"""

import time

import httpx2
import pytest
import redis
from celery import Celery

from .conftest import mail_to, wait_for_state

pytestmark = pytest.mark.services
TASK = "lessons.s04_celery.tasks.send_welcome_email"
RELAY = "lessons.s04_celery.tasks.relay_outbox"


def register(stack, email: str, name: str = "Ada") -> dict:
    response = httpx2.post(
        f"{stack.app_url}/users/register", json={"email": email, "name": name}, headers={"X-Tenant-ID": "acme"}
    )
    assert response.status_code == 201, response.text
    return response.json()


def client_app(stack) -> Celery:
    """A Celery client on the stack's broker: the test puts messages there itself."""
    return Celery(broker=stack.env["WORKBOOK_BROKER_URL"], backend=stack.env["WORKBOOK_RESULT_BACKEND"])


def test_register_then_the_worker_sends_the_email(stack):
    body = register(stack, "ada@example.com")
    status, seen = wait_for_state(stack.app_url, body["task_id"])
    assert status["state"] == "SUCCESS", status
    assert status["result"] == {"outcome": "sent", "user_id": body["user"]["id"]}
    [message] = mail_to(stack.mail.directory, "ada@example.com")
    assert message["Subject"] == "Welcome to the Storefront"
    assert "Hello Ada" in message.get_body(preferencelist=("plain",)).get_content()


def test_while_the_mail_server_is_down_the_task_retries_then_succeeds(stack):
    stack.mail.stop()
    try:
        body = register(stack, "grace@example.com", "Grace")
        # The state moves on while polled (RETRY, then STARTED on the next attempt): wait for an
        # answer that carries both the state and the error asserted below.
        status, seen = wait_for_state(
            stack.app_url,
            body["task_id"],
            done=lambda s: s["state"] == "RETRY" and s["retries"] >= 2 and "Connection refused" in (s["error"] or ""),
        )
        assert status["state"] == "RETRY", seen
        assert "Connection refused" in status["error"]
        assert mail_to(stack.mail.directory, "grace@example.com") == []
    finally:
        stack.mail.start()
    status, later = wait_for_state(stack.app_url, body["task_id"])
    assert status["state"] == "SUCCESS", later
    assert status["retries"] >= 2
    assert len(mail_to(stack.mail.directory, "grace@example.com")) == 1
    assert any("retry: Retry in" in line for line in stack.lines("worker")), "the worker logs each retry"


def test_a_task_delivered_twice_sends_one_email(stack):
    body = register(stack, "edsger@example.com", "Edsger")
    wait_for_state(stack.app_url, body["task_id"])
    celery = client_app(stack)
    # The same message again, twice, with the same task id: what a redelivery looks like.
    for _ in range(2):
        celery.send_task(TASK, args=["acme", body["user"]["id"]], task_id=body["task_id"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        skipped = [
            line for line in stack.lines("worker") if "welcome.skipped_duplicate" in line and body["task_id"] in line
        ]
        if len(skipped) == 2:
            break
        time.sleep(0.05)
    assert len(skipped) == 2, "both redeliveries ran and found the marker"
    assert len(mail_to(stack.mail.directory, "edsger@example.com")) == 1, "one email, however often the task ran"


def test_a_delivery_that_meets_a_dead_runs_claim_retries_and_sends_once_the_lease_ends(stack):
    # What late acks lead to: a run claimed the email, then its worker died before
    # sending, and the redelivered task finds the claim. It must not report "already
    # sent" (nothing was); it retries until the dead run's lease expires, then sends.
    probe = register(stack, "probe@example.com")
    next_id = probe["user"]["id"] + 1
    with redis.Redis.from_url(stack.redis_url) as app_redis:
        app_redis.set(f"welcome-email:acme:{next_id}", "claimed", px=500)  # the dead run's claim
    body = register(stack, "lin@example.com", "Lin")
    assert body["user"]["id"] == next_id
    status, seen = wait_for_state(stack.app_url, body["task_id"])
    assert status["state"] == "SUCCESS", seen
    assert status["result"] == {"outcome": "sent", "user_id": next_id}
    assert ("RETRY", 1) in seen or status["retries"] >= 1, "the claim made the first runs retry"
    assert len(mail_to(stack.mail.directory, "lin@example.com")) == 1


OUTAGE_REGISTRATIONS = 6  # each gives up after its nine attempts: more would only take longer


def test_an_outage_longer_than_the_retries_loses_no_email(stack):
    """Mail server down, several registrations, every task gives up; mail server back, the relay sends
    them all, once."""
    stack.mail.stop()
    try:
        patients = range(OUTAGE_REGISTRATIONS)
        bodies = [register(stack, f"outage{number}@example.com", f"Patient {number}") for number in patients]
        for body in bodies:
            status, seen = wait_for_state(stack.app_url, body["task_id"], timeout=60)
            assert status["state"] == "FAILURE", f"the retries ran out while the server was down: {seen}"
        assert not any(mail_to(stack.mail.directory, f"outage{number}@example.com") for number in patients)
    finally:
        stack.mail.start()
    # The periodic job, run directly (beat runs the same task every welcome_relay_seconds: see test_worker_kills.py).
    relayed = client_app(stack).send_task(RELAY).get(timeout=30)
    assert sorted(relayed["acme"]) == sorted(body["user"]["id"] for body in bodies), "every email still owed"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        delivered = [len(mail_to(stack.mail.directory, f"outage{number}@example.com")) for number in patients]
        if all(delivered):
            break
        time.sleep(0.2)
    assert delivered == [1] * OUTAGE_REGISTRATIONS, "every email arrives, each once"
    assert client_app(stack).send_task(RELAY).get(timeout=30) == {"acme": [], "globex": []}, "nothing is owed now"


def test_eager_mode_hides_routing_a_real_worker_never_runs_the_task(stack, eager):
    """What eager hides, part 2: routing. Sent to a queue no worker consumes, the
    task runs anyway in eager mode; on the real stack it waits there forever."""
    from lessons.s04_celery.tasks import send_welcome_email

    user_id = eager.post(
        "/users/register", json={"email": "ada@example.com", "name": "Ada"}, headers={"X-Tenant-ID": "acme"}
    ).json()["user"]["id"]
    assert send_welcome_email.apply_async(("acme", user_id), queue="emails").state == "SUCCESS"

    body = register(stack, "barbara@example.com", "Barbara")
    wait_for_state(stack.app_url, body["task_id"])
    lost = client_app(stack).send_task(TASK, args=["acme", body["user"]["id"]], queue="emails")
    control = client_app(stack).send_task(TASK, args=["acme", body["user"]["id"]])
    status, _ = wait_for_state(stack.app_url, control.id)
    assert status["state"] == "SUCCESS", "a task on the worker's queue, sent after it, has finished..."
    assert httpx2.get(f"{stack.app_url}/tasks/{lost.id}").json()["state"] == "PENDING", (
        "...while the one on the 'emails' queue is still waiting: the worker consumes only 'celery'"
    )


def test_an_eager_apply_passes_where_a_real_worker_refuses_the_message(stack, eager):
    """The erratum: an eager fixture plus `.apply()` runs the task here whatever the
    configuration, so it passes with a client that pickles its messages; the real
    worker, which accepts JSON only, refuses the message and the task never runs."""
    from lessons.s04_celery.tasks import send_welcome_email

    assert send_welcome_email.apply(("acme", 404)).state == "SUCCESS", "the eager test notices nothing"

    broken = client_app(stack)
    broken.conf.task_serializer = "pickle"
    refused = broken.send_task(TASK, args=["acme", 404])
    deadline = time.monotonic() + 20
    while not any("untrusted content" in line for line in stack.lines("worker")):
        assert time.monotonic() < deadline, "the worker said nothing about the pickled message"
        time.sleep(0.05)
    control = client_app(stack).send_task(TASK, args=["acme", 404])
    status, _ = wait_for_state(stack.app_url, control.id)
    assert status["state"] == "SUCCESS", "a JSON message sent after it has run..."
    assert httpx2.get(f"{stack.app_url}/tasks/{refused.id}").json()["state"] == "PENDING", (
        "...while the pickled one was refused and dropped: the real-worker test catches the broken client"
    )


def test_the_worker_met_no_broker_error_along_the_way(stack):
    """Runs last: nothing the worker sent the broker (scripts included) was refused."""
    refused = [line for line in stack.lines("worker") if "ResponseError" in line or "unknown command" in line]
    assert refused == []

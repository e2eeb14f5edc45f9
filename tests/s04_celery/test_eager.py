"""Eager mode: `.delay()` runs the task in the caller, at once. Quick to test with, and what it hides.

task_always_eager runs the real task code (arguments go through the JSON
serializer in Celery 5.7 too), so these tests prove the task and the service
work together. What it cannot show is anything about a worker: which queue the
message went to, and how long a retry waits. test_worker.py runs a real one.
"""

import time

from lessons.s04_celery.tasks import send_welcome_email

from .conftest import mail_to, register


def test_register_sends_the_welcome_email_through_the_smtp_server(eager, eager_results, mail_server):
    response = register(eager, "ada@example.com")
    assert response.status_code == 201
    [result] = eager_results
    assert response.json()["task_id"] == result.id
    assert (result.state, result.result) == ("SUCCESS", {"outcome": "sent", "user_id": 1})
    [message] = mail_to(mail_server.directory, "ada@example.com")
    assert message["Subject"] == "Welcome to the Storefront"


def test_running_the_task_again_sends_nothing_more(eager, mail_server):
    user_id = register(eager, "ada@example.com").json()["user"]["id"]
    assert send_welcome_email.delay("acme", user_id).get() == {"outcome": "already sent", "user_id": user_id}
    assert len(mail_to(mail_server.directory, "ada@example.com")) == 1


def test_an_unknown_tenant_fails_at_once(eager):
    result = send_welcome_email.apply(("initech", 1))
    assert result.state == "FAILURE" and isinstance(result.result, LookupError)


def test_eager_mode_runs_every_retry_inline_without_waiting(eager, eager_results, mail_server):
    """What eager hides, part 1: the backoff. All the retries run inside .delay(),
    one after the other with no wait at all, and the request that queued them waits for them all."""
    mail_server.stop()
    started = time.monotonic()
    response = register(eager, "ada@example.com")
    elapsed = time.monotonic() - started
    assert response.status_code == 201
    [result] = eager_results
    assert result.state == "FAILURE", "eager mode retried max_retries times inside the request, then gave up"
    assert isinstance(result.result, ConnectionRefusedError)
    # With base 0.05 s and cap 0.2 s, a worker would wait at least 0.025+0.05+0.1+0.1*5 = 0.675 s between
    # the 9 attempts; the whole request took less than those waits alone (on a busy machine, only just).
    assert elapsed < 0.675, f"no countdown was honoured, or the request would have taken over 0.675 s: {elapsed:.3f}"

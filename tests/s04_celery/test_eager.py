"""Eager mode: `.delay()` runs the task in the caller, at once. Quick to test with, and what it hides.

task_always_eager runs the real task code (arguments go through the JSON
serializer in Celery 5.7 too), so these tests prove the task and the service
work together. What it cannot show is anything about a worker: which queue the
message went to, and how long a retry waits. test_worker.py runs a real one.
"""

import time

import pytest
from kombu.exceptions import EncodeError

from lessons.s04_celery.models import User
from lessons.s04_celery.settings import get_settings
from lessons.s04_celery.tasks import send_welcome_email
from lessons.s04_celery.worker import celery_app

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


def test_eager_mode_runs_every_retry_inline_without_waiting(eager, eager_results, mail_server, monkeypatch):
    """What eager hides, part 1: the backoff. All the retries run inside .delay(),
    one after the other with no wait at all, and the request that queued them waits for them all."""
    # Countdowns of whole seconds: their sum dwarfs what nine refused connections take, however busy the machine.
    monkeypatch.setenv("WORKBOOK_WELCOME_RETRY_BASE_SECONDS", "1")
    monkeypatch.setenv("WORKBOOK_WELCOME_RETRY_CAP_SECONDS", "4")
    get_settings.cache_clear()
    mail_server.stop()
    started = time.monotonic()
    response = register(eager, "ada@example.com")
    elapsed = time.monotonic() - started
    assert response.status_code == 201
    [result] = eager_results
    assert result.state == "FAILURE", "eager mode retried max_retries times inside the request, then gave up"
    assert isinstance(result.result, ConnectionRefusedError)
    # A worker waits at least half of each ceiling (1, 2, 4, 4... s) before the 8 retries.
    shortest_wait = sum(min(4, 2**retries) / 2 for retries in range(8))
    assert elapsed < shortest_wait, "no countdown was honoured: the request took less than the shortest wait alone"


def test_eager_mode_sends_the_arguments_through_the_serializer(eager):
    """Since Celery 5 an argument JSON cannot carry fails in eager mode too, before the task runs."""
    with pytest.raises(EncodeError, match="not JSON serializable"):
        send_welcome_email.delay("acme", User(email="ada@example.com", name="Ada"))


def test_pitfall_apply_runs_here_whatever_the_configuration(eager, monkeypatch):
    """`.apply()` neither serializes nor sends: with eager mode off and a serializer the
    worker refuses, it still succeeds. A test built on it checks the task's code and
    nothing of the worker (test_worker.py has the test that catches the broken client)."""
    # Eager mode off (the eager fixture turns it off again at the end, so no monkeypatch to undo out of order).
    celery_app.conf.task_always_eager = False
    monkeypatch.setitem(celery_app.conf, "task_serializer", "pickle")
    result = send_welcome_email.apply(("acme", 404))
    assert (result.state, result.result) == ("SUCCESS", {"outcome": "no such user", "user_id": 404})

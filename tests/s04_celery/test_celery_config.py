"""The Celery app's reliability settings, and that it is built from the stage's Settings."""

import subprocess
import sys

import pytest
from pydantic import ValidationError

from lessons.s04_celery.retrying import (
    SMTP_ROUND_TRIPS,
    longest_attempt_seconds,
    longest_unacked_seconds,
    retry_budget_seconds,
)
from lessons.s04_celery.settings import Settings
from lessons.s04_celery.worker import celery_app, create_celery, visibility_timeout_seconds


def test_late_acks_and_one_message_at_a_time():
    conf = celery_app.conf
    assert conf.task_acks_late is True, "acknowledge after the task ran, so a crash mid-task redelivers it"
    assert conf.task_reject_on_worker_lost is True, "a killed pool process requeues its message"
    assert conf.worker_prefetch_multiplier == 1, "each process reserves one message at a time"
    assert conf.task_track_started is True
    assert conf.broker_connection_retry_on_startup is True
    assert conf.accept_content == ["json"] and conf.task_serializer == "json"


def test_the_broker_and_the_results_come_from_settings():
    app = create_celery(Settings(broker_url="redis://broker.example:6379/1", result_backend="redis://r.example/2"))
    assert app.conf.broker_url == "redis://broker.example:6379/1"
    assert app.conf.result_backend == "redis://r.example/2"


def test_with_nothing_configured_everything_is_in_process():
    app = create_celery(Settings())
    assert (app.conf.broker_url, app.conf.result_backend) == ("memory://localhost/", "cache+memory://")


def test_the_task_is_registered_under_its_module_name():
    assert "lessons.s04_celery.tasks.send_welcome_email" in celery_app.tasks


def test_importing_the_worker_and_queueing_raise_no_warning():
    # A fresh interpreter with every warning turned into an error: imports, queues, reads the state.
    code = (
        "from lessons.s04_celery.tasks import send_welcome_email\n"
        "result = send_welcome_email.delay('acme', 1)\n"
        "assert result.state == 'PENDING', result.state\n"
    )
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_the_visibility_timeout_is_derived_from_the_task_timings_not_kombus_hour():
    # Defaults: a retry waits at most 60 s, a send at most 8 SMTP steps x 5 s = 40 s;
    # twice the 100 s a live worker can hold the message.
    assert longest_unacked_seconds(retry_cap=60, smtp_timeout=5) == 60 + SMTP_ROUND_TRIPS * 5 == 100
    assert visibility_timeout_seconds(Settings()) == 200
    assert celery_app.conf.broker_transport_options["visibility_timeout"] == visibility_timeout_seconds(Settings())
    assert visibility_timeout_seconds(Settings()) < 3600, "kombu's default would keep a dead worker's message an hour"
    # It follows the settings it is built from: a slower mail server or a longer cap lengthen it.
    slower = Settings(smtp_timeout_seconds=10, welcome_claim_seconds=120)
    assert visibility_timeout_seconds(slower) == 2 * (60 + SMTP_ROUND_TRIPS * 10)
    assert create_celery(slower).conf.broker_transport_options["visibility_timeout"] == 280
    assert visibility_timeout_seconds(Settings(welcome_retry_cap_seconds=0.2, smtp_timeout_seconds=0.25)) == 5


def test_the_retry_budget_adds_every_capped_wait_and_every_attempt():
    # Waits 1, 2, 4 (then capped at 5, 5); six attempts of 8 steps x 0.5 s.
    assert retry_budget_seconds(base=1, cap=5, max_retries=5, smtp_timeout=0.5) == 1 + 2 + 4 + 5 + 5 + 6 * 4
    assert retry_budget_seconds(base=1, cap=5, max_retries=0, smtp_timeout=0.5) == longest_attempt_seconds(0.5)


def test_a_claim_lease_shorter_than_a_send_is_refused_at_start_up():
    """A lease that can expire while a send is still under way would let a second run send too."""
    with pytest.raises(ValidationError, match="must exceed the longest send"):
        Settings(welcome_claim_seconds=30, smtp_timeout_seconds=5)  # a send may take 40 s
    assert Settings(welcome_claim_seconds=41, smtp_timeout_seconds=5).welcome_claim_seconds == 41


def test_beat_runs_the_outbox_relay_every_relay_period():
    [entry] = create_celery(Settings(welcome_relay_seconds=7)).conf.beat_schedule.values()
    assert entry == {"task": "lessons.s04_celery.tasks.relay_outbox", "schedule": 7}
    assert "lessons.s04_celery.tasks.relay_outbox" in celery_app.tasks

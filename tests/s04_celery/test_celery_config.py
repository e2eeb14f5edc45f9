"""The Celery app's reliability settings, and that it is built from the stage's Settings."""

import subprocess
import sys

from lessons.s04_celery.settings import Settings
from lessons.s04_celery.worker import celery_app, create_celery


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

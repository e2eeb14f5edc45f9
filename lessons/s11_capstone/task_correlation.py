"""The request's correlation id, carried into the Celery tasks it queues, and logging set up for the worker.

The web process adds the id to each task message's headers as it publishes it
(`before_task_publish`, which runs where `.delay()` is called, so in the request's
context). The worker binds it before the task runs (`task_prerun`) and clears it
after (`task_postrun`): every line the task logs, Celery's "succeeded" line
included, carries the id of the request that queued it. A task queued by a task
(a retry, the outbox relay's) carries its parent's id on. Before any of that, the
worker's main process logs "Task ... received" as each message arrives: the
Request class below binds the id for that line too.

Celery's signals belong to the whole process, not to one Celery app: each receiver
here looks only at this package's tasks. `carry_correlation_ids()` (worker.py)
connects them.
"""

import structlog
from celery import Task
from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun, task_received
from celery.worker.request import Request

from .correlation import new_correlation_id
from .logging_config import configure_logging
from .settings import get_settings

# A header of our own: Celery's messages already have a `correlation_id` property (the task's id).
MESSAGE_HEADER = "x_correlation_id"
OUR_TASKS = f"{__package__}."


def carry_correlation_ids() -> None:
    """Connect the receivers below (once: connecting the same one again changes nothing)."""
    setup_logging.connect(log_json, weak=False)
    before_task_publish.connect(send_correlation_id, weak=False)
    task_prerun.connect(bind_correlation_id, weak=False)
    task_postrun.connect(clear_correlation_id, weak=False)
    task_received.connect(clear_after_receiving, weak=False)


def log_json(**kwargs) -> None:
    # With a receiver connected, Celery leaves logging alone: the worker's own lines
    # (ready, task received, succeeded) come out as the same JSON as the tasks'.
    configure_logging(get_settings().log_level)


def send_correlation_id(sender: str, headers: dict, **kwargs) -> None:
    correlation_id = structlog.contextvars.get_contextvars().get("correlation_id")
    if sender.startswith(OUR_TASKS) and correlation_id is not None:
        headers[MESSAGE_HEADER] = correlation_id


def bind_correlation_id(task: Task, task_id: str, **kwargs) -> None:
    if not task.name.startswith(OUR_TASKS) or task.request.is_eager:
        return  # an eager task runs inside its caller (a test), whose context already holds the id
    structlog.contextvars.clear_contextvars()
    # A task queued outside any request (by Celery beat) gets an id of its own.
    correlation_id = task.request.get(MESSAGE_HEADER) or new_correlation_id()
    structlog.contextvars.bind_contextvars(correlation_id=correlation_id, task_id=task_id)


def clear_correlation_id(task: Task, **kwargs) -> None:
    if task.name.startswith(OUR_TASKS) and not task.request.is_eager:
        structlog.contextvars.clear_contextvars()


class CorrelatedRequest(Request):
    """The worker's main process makes one per message, then logs "received": bind the id for that line."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.name.startswith(OUR_TASKS):
            # A message without one (Celery beat's) gets its id here, and the pool process
            # that runs the task reads it from the same request: one id for all its lines.
            self._request_dict.setdefault(MESSAGE_HEADER, new_correlation_id())
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(correlation_id=self._request_dict[MESSAGE_HEADER], task_id=self.id)


class CorrelatedTask(Task):
    """The base of this app's tasks (worker.py): their messages are read into a CorrelatedRequest."""

    Request = CorrelatedRequest


def clear_after_receiving(**kwargs) -> None:
    # Sent right after the "received" line: the main process goes on to other messages.
    structlog.contextvars.clear_contextvars()

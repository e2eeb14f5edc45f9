"""Telling an account's owner that someone tried to register their email again.

POST /users/register answers a known email exactly as it answers a new one, so
the caller learns nothing; the owner learns it instead, by email, and can ignore
it or reset a forgotten password. The notice goes through Celery like the welcome
email, without its outbox: if the mail server stays down past the task's retries
the notice is lost, and nothing is owed, as no account was made.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends

from .tasks import send_registration_notice

NoticeQueue = Callable[[str, int], str]


def queue_registration_notice(tenant_id: str, user_id: int) -> str:
    """Put the notice on the broker for a worker to send; answers the task id."""
    return send_registration_notice.delay(tenant_id, user_id).id


def get_notice_queue() -> NoticeQueue:
    return queue_registration_notice


NoticeQueueDep = Annotated[NoticeQueue, Depends(get_notice_queue)]

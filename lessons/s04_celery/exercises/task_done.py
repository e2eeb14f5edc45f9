"""Exercise 04/task_done: has the task finished, and did it succeed?

`GET /tasks/{task_id}/done` answers {"task_id": ..., "finished": ..., "succeeded": ...}:

- finished: true once the task will not change again (SUCCESS, FAILURE or
  REVOKED); false while it is PENDING, STARTED or waiting to RETRY.
- succeeded: null while it is not finished, then true for SUCCESS and false
  otherwise.

A client polls this instead of parsing states. Ask Celery through the app's
`celery_app`, never by reading the broker or the result store yourself.
"""

from fastapi import APIRouter
from pydantic import BaseModel

from ..worker import celery_app

router = APIRouter(tags=["exercises"])


class TaskDone(BaseModel):
    task_id: str
    finished: bool
    succeeded: bool | None


@router.get("/tasks/{task_id}/done")
def task_done(task_id: str) -> TaskDone:
    raise NotImplementedError("exercise 04/task_done: write this part")

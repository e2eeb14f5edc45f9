"""GET /tasks/{task_id}: what became of a queued Celery task."""

from fastapi import APIRouter

from ..schemas import TaskStatus
from ..worker import celery_app

router = APIRouter(tags=["tasks"])


@router.get("/tasks/{task_id}")
def task_status(task_id: str) -> TaskStatus:
    """The task's state as the result backend knows it.

    An id the backend has never heard of is PENDING too: Celery cannot tell
    "queued, not started yet" from "no such task", because nothing is stored
    until a worker reports. (STARTED is reported only because the app sets
    task_track_started.)
    """
    # One read of the task's record. Reading the state, then the details, could straddle
    # the task's next step (RETRY, then STARTED) and pair a state with another's details.
    record = celery_app.backend.get_task_meta(task_id)
    state = record["status"]
    answer = TaskStatus(task_id=task_id, state=state)
    if state == "PENDING":
        return answer
    answer.retries = record.get("retries")
    if state == "SUCCESS":
        answer.result = record["result"]
    elif state in ("RETRY", "FAILURE"):
        answer.error = repr(record["result"])  # the exception the task raised or is retrying on
    return answer

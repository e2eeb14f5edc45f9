"""Exercise 04/welcome_again: a route that queues the welcome email again.

`POST /users/{user_id}/welcome-email` (with the usual X-Tenant-ID header) queues
the welcome email for an existing user of the tenant and answers 202 Accepted
with {"task_id": "<celery id>"}. An unknown user answers 404 and queues nothing.

Queue it through the same `WelcomeQueueDep` the registration route uses, so a
test can swap the queue for a recorder. The worker's idempotency marker
decides whether an email really goes out: a user who already got one is not
sent a second (the task answers "already sent").
"""

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from ..dependencies import TenantDep, UserRepositoryDep, WelcomeQueueDep
from ..path_params import UserId

router = APIRouter(tags=["exercises"])


class Queued(BaseModel):
    task_id: str


@router.post("/users/{user_id}/welcome-email", status_code=status.HTTP_202_ACCEPTED)
def welcome_again(user_id: UserId, tenant: TenantDep, users: UserRepositoryDep, queue: WelcomeQueueDep) -> Queued:
    raise NotImplementedError("exercise 04/welcome_again: write this part")

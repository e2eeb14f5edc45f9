"""Asserting work scheduled for after the response, through the dependencies that schedule it.

Routes schedule jobs through `Jobs` (jobs.py), and queue Celery tasks through
`get_welcome_queue`; a test swaps either for a recorder and asserts what was
scheduled, with which arguments, without running it. (FastAPI's own
BackgroundTasks cannot be overridden: that is why the routes do not take it.)
"""

import io
from typing import Any

import pytest
from PIL import Image

from lessons.s09_testing.analytics import record_event
from lessons.s09_testing.dependencies import get_welcome_queue
from lessons.s09_testing.jobs import get_jobs
from lessons.s09_testing.thumbnails import make_thumbnails

from ...auth_helpers import ACME, ADA, stored_user

pytestmark = pytest.mark.api


class RecordedJobs:
    """Fits Jobs: keeps each job and its arguments instead of running it after the response."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Any, tuple, dict]] = []

    def add(self, job, /, *args, **kwargs) -> None:
        self.jobs.append((job, args, kwargs))


@pytest.fixture
def jobs(override) -> RecordedJobs:
    recorded = RecordedJobs()
    override(get_jobs, lambda: recorded)
    return recorded


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_upload_schedules_the_thumbnails_then_the_analytics_event(client, ada_by_token, jobs):
    user_id = stored_user(client, ADA["email"]).id
    response = client.post(
        f"/users/{user_id}/profile-image", files={"file": ("me.png", png(), "image/png")}, headers=ada_by_token
    )
    assert response.status_code == 202, response.text
    [(first, first_args, _), (second, second_args, _)] = jobs.jobs
    assert first is make_thumbnails and first_args[1:3] == ("acme", user_id)
    assert second is record_event and second_args[1:] == ("acme", "profile_image.uploaded")


def test_a_recorded_job_did_not_run(client, ada_by_token, jobs):
    user_id = stored_user(client, ADA["email"]).id
    client.post(f"/users/{user_id}/profile-image", files={"file": ("me.png", png(), "image/png")}, headers=ada_by_token)
    image = client.get(f"/users/{user_id}/profile-image", headers=ada_by_token).json()
    assert image["thumbnails"] == [], "no thumbnail was made: the job was only recorded"


def test_registering_queues_the_welcome_email_for_the_new_user(client, override):
    queued: list[tuple[str, int]] = []

    def record(tenant_id: str, user_id: int) -> str:
        queued.append((tenant_id, user_id))
        return "task-1"

    override(get_welcome_queue, lambda: record)
    assert client.post("/users/register", json=ADA, headers=ACME).status_code == 202
    assert queued == [("acme", stored_user(client, ADA["email"]).id)]

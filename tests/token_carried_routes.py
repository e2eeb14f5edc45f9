"""The routes earlier stages added, carried into the stages with tokens: registration still queues
the welcome email, profile images are changed by their owner (or an admin), the rest is as it was.

Every stage with tokens imports these tests into its test_carried_routes.py, so they run against
that stage's app (through the fixtures its conftest.py provides).
"""

import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from PIL import Image

from .auth_helpers import ACME, ADA, GRACE, bearer, log_in_as_admin, register, stage_module, user_as_shown


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


def upload(client, user_id: int, token: str | None):
    headers = bearer(token) if token else ACME
    return client.post(
        f"/users/{user_id}/profile-image", files={"file": ("me.png", png(), "image/png")}, headers=headers
    )


def check_registering_queues_the_welcome_email(client: TestClient, get_welcome_queue: Callable, fields: dict) -> None:
    """Ada registers with the stage's welcome queue (its `get_welcome_queue` dependency) replaced by
    a recorder: the user is saved, then queued. `fields` are what the stage stores for a new user
    besides id, email and name, which is what changes from stage to stage."""
    queued: list[tuple[str, int]] = []

    def record(tenant_id: str, user_id: int) -> str:
        queued.append((tenant_id, user_id))
        return "a-task-id"

    client.app.dependency_overrides[get_welcome_queue] = lambda: record
    response = client.post("/users/register", json=ADA, headers=ACME)
    assert response.status_code == 202
    assert "a-task-id" not in response.text  # a task id would tell a welcome from a notice
    assert queued == [("acme", 2)]
    assert user_as_shown(client, ADA["email"]) == {"id": 2, "email": ADA["email"], "name": ADA["name"], **fields}


def test_with_nothing_running_the_welcome_task_is_queued_in_process_and_stays_pending(client):
    dependencies = stage_module(client, "dependencies")
    task_ids: list[str] = []

    def queue_and_keep_the_id(tenant_id: str, user_id: int) -> str:
        task_ids.append(dependencies.queue_welcome_email(tenant_id, user_id))
        return task_ids[-1]

    client.app.dependency_overrides[dependencies.get_welcome_queue] = lambda: queue_and_keep_the_id
    assert client.post("/users/register", json=ADA, headers=ACME).status_code == 202
    assert client.get(f"/tasks/{task_ids[0]}").json()["state"] == "PENDING"


def test_a_user_uploads_their_own_profile_image(client, ada):
    response = upload(client, ada["user"]["id"], ada["access_token"])
    assert response.status_code == 202
    assert client.get(f"/users/{ada['user']['id']}/profile-image", headers=ACME).json()["width"] == 320


def test_uploading_needs_a_token(client, ada):
    assert upload(client, ada["user"]["id"], None).status_code == 401


def test_a_user_cannot_replace_someone_elses_profile_image(client, ada):
    grace = register(client, GRACE)
    response = upload(client, grace["id"], ada["access_token"])
    assert response.status_code == 403
    assert client.get(f"/users/{grace['id']}/profile-image", headers=ACME).status_code == 404


def test_an_admin_may_replace_anyones(client, ada):
    admin = log_in_as_admin(client)
    assert upload(client, ada["user"]["id"], admin["access_token"]).status_code == 202


def test_deleting_a_user_still_removes_their_image(client, ada):
    upload(client, ada["user"]["id"], ada["access_token"])
    admin = log_in_as_admin(client)
    assert client.delete(f"/admin/users/{ada['user']['id']}", headers=bearer(admin["access_token"])).status_code == 204
    assert client.get(f"/users/{ada['user']['id']}/profile-image", headers=ACME).status_code == 404

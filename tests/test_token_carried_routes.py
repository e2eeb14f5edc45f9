"""The routes earlier stages added, carried into the stages with tokens: registration still queues
the welcome email, profile images are changed by their owner (or an admin), the rest is as it was.

They run against every stage whose API has a /token route, each stage's app in turn.
"""

import io

import pytest
from PIL import Image

from .auth_helpers import ACME, ADA, GRACE, LOG_IN, ROLES, bearer, log_in_as_admin, register, user_as_shown
from .stage_apps import stage_app_fixture, stage_params

stage_app = stage_app_fixture(*LOG_IN)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


def upload(client, user_id: int, token: str | None):
    headers = bearer(token) if token else ACME
    return client.post(
        f"/users/{user_id}/profile-image", files={"file": ("me.png", png(), "image/png")}, headers=headers
    )


def test_registering_queues_the_welcome_email_after_the_user_is_saved(client, stage_app, rules):
    """Ada registers with the stage's welcome queue (its `get_welcome_queue` dependency) replaced by
    a recorder: the user is saved, then queued."""
    queued: list[tuple[str, int]] = []

    def record(tenant_id: str, user_id: int) -> str:
        queued.append((tenant_id, user_id))
        return "a-task-id"

    client.app.dependency_overrides[stage_app.module("dependencies").get_welcome_queue] = lambda: record
    response = client.post("/users/register", json=ADA, headers=ACME)
    assert response.status_code == 202
    assert "a-task-id" not in response.text  # a task id would tell a welcome from a notice
    assert queued == [("acme", 2)]
    assert user_as_shown(client, ADA["email"]) == {
        "id": 2,
        "email": ADA["email"],
        "name": ADA["name"],
        **rules.new_user,
    }


def test_with_nothing_running_the_welcome_task_is_queued_in_process_and_stays_pending(client, stage_app):
    dependencies = stage_app.module("dependencies")
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


# Under roles, a profile image follows the profile-edit rule (its owner, or users:write with
# users:edit), so staff, who may read others, still may not replace their image.
@pytest.mark.parametrize("stage_app", stage_params(*ROLES), indirect=True)
def test_staff_may_read_but_not_replace_someone_elses(client, ada, grace):
    assert upload(client, ada["user"]["id"], grace["access_token"]).status_code == 403

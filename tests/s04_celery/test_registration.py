"""POST /users/register and GET /tasks/{task_id}, with the queue replaced or in-process."""

import warnings

from lessons.s04_celery.dependencies import get_welcome_queue
from lessons.s04_celery.main import app
from lessons.s04_celery.models import User
from lessons.s04_celery.worker import celery_app

from ..stage_apps import count_rows
from .conftest import ACME, GLOBEX, register


def test_register_answers_201_with_the_user_and_the_task_id(client, queued):
    response = register(client, "ada@example.com")
    assert response.status_code == 201
    body = response.json()
    assert body == {"user": {"id": 1, "email": "ada@example.com", "name": "Ada"}, "task_id": "task-1"}
    assert queued == [("acme", 1)], "the welcome email is queued once, with the tenant and the new user's id"


def test_the_user_is_committed_before_the_task_is_queued(file_client):
    seen_by_the_queue: list[int] = []

    def queue(tenant_id: str, user_id: int) -> str:
        # What a worker starting right now would find, on a connection of its own.
        seen_by_the_queue.append(count_rows(file_client, User, tenant_id))
        return "task-x"

    app.dependency_overrides[get_welcome_queue] = lambda: queue
    assert register(file_client, "ada@example.com").status_code == 201
    assert seen_by_the_queue == [1], "the row must be committed, and visible to others, before the task is queued"


def test_each_tenant_queues_for_its_own_users(client, queued):
    register(client, "ada@example.com")
    register(client, "grace@example.com", "Grace", headers=GLOBEX)
    assert queued == [("acme", 1), ("globex", 1)]


def test_a_refused_registration_queues_nothing(client, queued):
    assert register(client, "ada@example.com").status_code == 201
    assert register(client, "ada@example.com").status_code == 409
    assert client.post("/users/register", json={"email": "not-an-email", "name": "X"}, headers=ACME).status_code == 422
    assert register(client, "bob@example.com", headers={}).status_code == 400
    assert queued == [("acme", 1)], "only the one successful registration queues an email"


def test_post_users_is_replaced_by_register(client, queued):
    response = client.post("/users", json={"email": "ada@example.com", "name": "Ada"}, headers=ACME)
    assert response.status_code in (404, 405), "POST /users is gone: registration is POST /users/register"


def test_with_nothing_configured_the_task_is_queued_in_process_and_stays_pending(client):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the in-memory broker must not warn either
        response = register(client, "ada@example.com")
    assert response.status_code == 201
    task_id = response.json()["task_id"]
    assert celery_app.conf.broker_url == "memory://localhost/"
    status = client.get(f"/tasks/{task_id}").json()
    assert status == {"task_id": task_id, "state": "PENDING", "retries": None, "result": None, "error": None}


def test_an_unknown_task_id_is_pending_too(client):
    # Celery stores nothing until a worker reports, so "never heard of it" looks like "queued".
    assert client.get("/tasks/no-such-task").json()["state"] == "PENDING"


def test_the_user_routes_of_earlier_stages_still_work(client, queued):
    register(client, "ada@example.com")
    assert client.get("/users/1", headers=ACME).json()["name"] == "Ada"
    assert client.get("/health").json() == {"status": "ok", "stage": "04"}

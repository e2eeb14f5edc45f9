"""Exercise 04/task_done: GET /tasks/{task_id}/done says whether a task finished and succeeded."""

import pytest
from celery import states

from lessons.s04_celery.worker import celery_app


@pytest.fixture
def stored(client):
    """Write a task state into the app's result backend, as a worker would."""

    def store(task_id: str, state: str, result=None) -> None:
        celery_app.backend.store_result(task_id, result, state)

    return store


def done(client, task_id: str) -> dict:
    response = client.get(f"/tasks/{task_id}/done")
    assert response.status_code == 200, f"GET /tasks/{{id}}/done should answer 200, got {response.status_code}"
    return response.json()


def test_a_task_nobody_ran_is_not_finished(client):
    assert done(client, "never-ran") == {"task_id": "never-ran", "finished": False, "succeeded": None}, (
        "a PENDING task is not finished, so 'succeeded' is still null"
    )


@pytest.mark.parametrize("state", [states.STARTED, states.RETRY])
def test_a_running_or_retrying_task_is_not_finished(client, stored, state):
    stored("busy", state, ConnectionRefusedError(111, "refused") if state == states.RETRY else None)
    assert done(client, "busy") == {"task_id": "busy", "finished": False, "succeeded": None}, (
        f"{state} is not a final state: finished is false and succeeded null"
    )


def test_a_successful_task_finished_and_succeeded(client, stored):
    stored("good", states.SUCCESS, {"outcome": "sent"})
    assert done(client, "good") == {"task_id": "good", "finished": True, "succeeded": True}


def test_a_failed_task_finished_without_success(client, stored):
    stored("bad", states.FAILURE, ConnectionRefusedError(111, "refused"))
    assert done(client, "bad") == {"task_id": "bad", "finished": True, "succeeded": False}, (
        "FAILURE is final: finished true, succeeded false"
    )

"""Exercise 04/welcome_again: POST /users/{user_id}/welcome-email queues the welcome email again."""

from .conftest import ACME, GLOBEX, mail_to, register


def again(client, user_id: int, headers=ACME):
    return client.post(f"/users/{user_id}/welcome-email", headers=headers)


def test_it_queues_the_welcome_email_for_the_user(client, queued):
    user_id = register(client, "ada@example.com").json()["user"]["id"]
    response = again(client, user_id)
    assert response.status_code == 202, f"queueing answers 202 Accepted, got {response.status_code}"
    assert response.json() == {"task_id": "task-2"}, "answer the task id the queue returned"
    assert queued == [("acme", user_id), ("acme", user_id)], "queue it with the tenant's id and the user's id"


def test_an_unknown_user_is_404_and_queues_nothing(client, queued):
    response = again(client, 41)
    assert response.status_code == 404, f"no such user: 404, got {response.status_code}"
    assert queued == [], "nothing may be queued for a user who does not exist"


def test_another_tenants_user_is_not_found(client, queued):
    user_id = register(client, "ada@example.com").json()["user"]["id"]
    assert again(client, user_id, headers=GLOBEX).status_code == 404, "globex has no user with acme's user's id"
    assert queued == [("acme", user_id)]


def test_the_tenant_header_is_still_required(client, queued):
    user_id = register(client, "ada@example.com").json()["user"]["id"]
    assert again(client, user_id, headers={}).status_code == 400, "no X-Tenant-ID header: 400"
    assert again(client, user_id).status_code == 202, "with the header the same request queues the email"


def test_with_the_real_task_the_marker_keeps_it_to_one_email(eager, eager_results, mail_server):
    user_id = register(eager, "ada@example.com").json()["user"]["id"]
    response = again(eager, user_id)
    assert response.status_code == 202, f"queueing answers 202 Accepted, got {response.status_code}"
    assert [result.result["outcome"] for result in eager_results] == ["sent", "already sent"], (
        "the task ran twice; the idempotency marker let only the first send"
    )
    assert len(mail_to(mail_server.directory, "ada@example.com")) == 1

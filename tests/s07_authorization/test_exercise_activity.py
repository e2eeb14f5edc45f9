"""Exercise 07/activity: GET /users/{user_id}/activity: your own, or someone else's with scope and permission."""

from ..auth_helpers import GRACE, bearer, log_in


def activity(client, token: str, user_id: int):
    return client.get(f"/users/{user_id}/activity", headers=bearer(token))


def test_a_user_reads_their_own_activity(client, ada):
    response = activity(client, ada["access_token"], ada["user"]["id"])
    assert response.status_code == 200, f"your own activity should answer 200, got {response.status_code}"
    expected = [{"action": "user.registered"}, {"action": "user.email_confirmed"}]
    assert response.json() == expected, "Ada's events so far are her registration and its confirmation, oldest first"


def test_a_customer_cannot_read_someone_elses(client, ada, grace):
    response = activity(client, ada["access_token"], grace["user"]["id"])
    assert response.status_code == 403, f"another user's activity is 403 for a customer, got {response.status_code}"
    assert response.json() == {"detail": "You may only read your own activity"}, "the detail says why"


def test_a_customer_gets_403_even_for_an_unknown_id(client, ada):
    assert activity(client, ada["access_token"], ada["user"]["id"]).status_code == 200, "own activity answers first"
    assert activity(client, ada["access_token"], 999).status_code == 403, "no 404 for callers who may not look"


def test_staff_read_others_and_get_404_for_an_unknown_id(client, ada, grace):
    response = activity(client, grace["access_token"], ada["user"]["id"])
    assert response.status_code == 200, (
        f"staff (scope and permission users:read) may read others, got {response.status_code}"
    )
    assert activity(client, grace["access_token"], 999).status_code == 404, "an unknown id is 404 for staff"


def test_a_staff_token_without_the_users_read_scope_is_held_to_its_scopes(client, ada, grace):
    narrow = log_in(client, GRACE["email"], GRACE["password"], scope="me")
    assert activity(client, grace["access_token"], ada["user"]["id"]).status_code == 200, "full token first"
    assert activity(client, narrow["access_token"], ada["user"]["id"]).status_code == 403, (
        "the role holds the permission but this token lacks the users:read scope: 403"
    )

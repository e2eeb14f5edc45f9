"""Exercise 01/audit_trail: GET /audit/{subject} answers a subject's audit events."""


def test_a_registration_leaves_one_event(client):
    client.post("/users", json={"email": "ada@example.com", "name": "Ada"})
    response = client.get("/audit/ada@example.com")
    assert response.status_code == 200, f"GET /audit/ada@example.com should answer 200, got {response.status_code}"
    assert response.json() == [{"action": "user.registered", "subject": "ada@example.com"}]


def test_events_belong_to_their_subject_only(client):
    for email in ("ada@example.com", "grace@example.com"):
        client.post("/users", json={"email": email, "name": "Someone"})
    subjects = {event["subject"] for event in client.get("/audit/grace@example.com").json()}
    assert subjects == {"grace@example.com"}, "only grace@example.com's events should be answered"


def test_a_subject_without_events_answers_an_empty_list(client):
    response = client.get("/audit/nobody@example.com")
    assert response.status_code == 200, "an unknown subject is not an error: it has no events yet"
    assert response.json() == []

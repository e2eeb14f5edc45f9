"""The user routes with passwords: register, read yourself, read others, and the admin delete."""

import pytest
from sqlalchemy import select

from lessons.s06_oauth2_jwt.models import AuditEvent, User

from ..auth_helpers import ACME, ADA, GLOBEX, GRACE, bearer, log_in, log_in_as_admin, register

RECEIVED = "Check your inbox: the email on its way says how to go on"


def test_register_answers_202_naming_no_user_and_makes_an_unconfirmed_account(client):
    response = client.post("/users/register", json=ADA, headers=ACME)
    assert (response.status_code, response.json()) == (202, {"detail": RECEIVED})
    with client.app_state["tenants"].get("acme").sessions() as session:
        user = session.scalar(select(User).where(User.email == ADA["email"]))
    assert (user.id, user.name, user.is_admin, user.email_confirmed) == (2, ADA["name"], False, False)


def test_the_password_is_stored_as_a_bcrypt_hash_at_the_configured_cost(client):
    register(client, ADA)
    with client.app_state["tenants"].get("acme").sessions() as session:
        stored = session.scalar(select(User.password_hash).where(User.email == ADA["email"]))
    assert stored.startswith("$2b$04$") and len(stored) == 60
    assert ADA["password"] not in stored


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "Value error, The password must have at least 8 characters"),
        (
            "x" * 73,
            "Value error, The password must be at most 72 bytes in UTF-8 (bcrypt reads no more); this one is 73 bytes",
        ),
        (
            "🔑" * 19,
            "Value error, The password must be at most 72 bytes in UTF-8 (bcrypt reads no more); this one is 76 bytes",
        ),
    ],
    ids=["too short", "73 ascii bytes", "19 emoji, 76 bytes"],
)
def test_a_password_bcrypt_cannot_take_whole_or_too_short_answers_422_and_stores_nothing(client, password, message):
    response = client.post("/users/register", json={**ADA, "password": password}, headers=ACME)
    assert response.status_code == 422
    assert [(error["loc"], error["msg"]) for error in response.json()["detail"]] == [(["body", "password"], message)]
    assert password not in response.text
    with client.app_state["tenants"].get("acme").sessions() as session:
        assert session.scalar(select(User).where(User.email == ADA["email"])) is None


@pytest.mark.services
def test_a_known_email_is_answered_like_a_new_one_and_changes_no_account(client):
    register(client, ADA)
    response = client.post("/users/register", json={**ADA, "name": "Someone Else"}, headers=ACME)
    assert (response.status_code, response.json()) == (202, {"detail": RECEIVED})
    with client.app_state["tenants"].get("acme").sessions() as session:
        assert session.scalar(select(User).where(User.email == ADA["email"])).name == ADA["name"]
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    # The demo admin's and Ada's registrations, Ada's confirmation, then the second attempt.
    assert actions == ["user.registered", "user.registered", "user.email_confirmed", "user.registered_again"]


def test_users_me_answers_the_caller(client, ada):
    response = client.get("/users/me", headers=bearer(ada["access_token"]))
    assert response.json() == ada["user"]


def test_reading_a_user_needs_a_token_of_the_tenant(client, ada):
    assert client.get("/users/1", headers=ACME).status_code == 401
    assert client.get("/users/1", headers=bearer(ada["access_token"])).json()["email"] == "admin@acme.example"
    assert client.get("/users/99", headers=bearer(ada["access_token"])).status_code == 404


def test_the_same_email_is_two_users_in_two_tenants(client):
    register(client, ADA, ACME)
    register(client, {**ADA, "password": "globex password"}, GLOBEX)
    assert log_in(client, ADA["email"], ADA["password"], ACME)["scope"] == "me"
    assert log_in(client, ADA["email"], "globex password", GLOBEX)["scope"] == "me"


def test_an_admin_deletes_a_user(client, ada):
    admin = log_in_as_admin(client)
    assert client.delete(f"/admin/users/{ada['user']['id']}", headers=bearer(admin["access_token"])).status_code == 204
    assert client.get(f"/users/{ada['user']['id']}", headers=bearer(admin["access_token"])).status_code == 404


def test_a_regular_user_gets_403_and_deletes_nothing(client, ada):
    grace = register(client, GRACE)
    response = client.delete(f"/admin/users/{grace['id']}", headers=bearer(ada["access_token"]))
    assert response.status_code == 403
    assert response.json() == {"detail": "This needs the 'admin' scope"}
    assert client.get(f"/users/{grace['id']}", headers=bearer(ada["access_token"])).status_code == 200


def test_no_token_answers_401_with_a_bearer_challenge(client, ada):
    response = client.delete(f"/admin/users/{ada['user']['id']}", headers=ACME)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_deleting_an_unknown_user_answers_404(client):
    admin = log_in_as_admin(client)
    assert client.delete("/admin/users/99", headers=bearer(admin["access_token"])).status_code == 404


def test_the_older_delete_path_is_kept_deprecated_and_guarded_the_same_way(client, ada):
    operation = client.get("/openapi.json").json()["paths"]["/users/{user_id}"]["delete"]
    assert operation["deprecated"] is True
    grace = register(client, GRACE)
    assert client.delete(f"/users/{grace['id']}", headers=bearer(ada["access_token"])).status_code == 403
    admin = log_in_as_admin(client)
    assert client.delete(f"/users/{grace['id']}", headers=bearer(admin["access_token"])).status_code == 204

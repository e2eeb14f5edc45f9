"""The welcome-email outbox: written with the user, relayed while owed, settled once sent."""

from datetime import timedelta

import fakeredis
import pytest
import structlog

from lessons.s04_celery.dependencies import SessionDep, get_audit_log
from lessons.s04_celery.markers import RedisOnceMarkers
from lessons.s04_celery.models import User, WelcomeEmail
from lessons.s04_celery.outbox import relay_welcome_emails
from lessons.s04_celery.repositories import SqlAlchemyUserRepository
from lessons.s04_celery.welcome_emails import WelcomeEmails

from ..stage_apps import count_rows
from .conftest import register
from .test_services import RecordingSender

AN_HOUR = timedelta(hours=1)


def relay(client, chain_lasts: timedelta = AN_HOUR) -> list[int]:
    queued: list[int] = []
    with client.app_state["tenants"].get("acme").sessions() as session:
        relay_welcome_emails(session, queued.append, chain_lasts)
    return queued


def welcome_emails(client, sender=None) -> tuple[WelcomeEmails, object]:
    """The service as the task builds it, on a session of the app's database."""
    session = client.app_state["tenants"].get("acme").sessions()
    service = WelcomeEmails(
        "acme",
        SqlAlchemyUserRepository(session),
        sender or RecordingSender(),
        RedisOnceMarkers(fakeredis.FakeRedis()),
        structlog.get_logger(),
        mail_from="shop@example.com",
        claim_seconds=60,
    )
    return service, session


def test_registering_writes_the_outbox_row_in_the_same_commit(client, queued):
    user_id = register(client, "ada@example.com").json()["user"]["id"]
    assert count_rows(client, WelcomeEmail) == 1
    with client.app_state["tenants"].get("acme").sessions() as session:
        row = session.get(WelcomeEmail, user_id)
        assert row.queued_at is not None and row.sent_at is None, "queued by the route at once, not sent yet"


def test_a_failed_registration_leaves_no_outbox_row(client, queued, failing_audit_log):
    def failing(session: SessionDep):
        return failing_audit_log(session)

    client.app.dependency_overrides[get_audit_log] = failing
    # The user and its outbox row were flushed, then the audit log failed: one rollback drops both.
    with pytest.raises(RuntimeError, match="audit store unavailable"):
        register(client, "ada@example.com")
    assert count_rows(client, WelcomeEmail) == 0
    assert count_rows(client, User) == 0
    assert queued == [], "nothing was queued for a user that does not exist"


def test_the_relay_leaves_an_email_whose_task_is_still_on_its_way(client, queued):
    register(client, "ada@example.com")
    assert relay(client) == [], "queued a moment ago: its retries may still be running"


def test_the_relay_queues_again_an_email_whose_retries_ran_out_then_waits_for_that_chain(client, queued):
    user_id = register(client, "ada@example.com").json()["user"]["id"]
    service, session = welcome_emails(client)
    service.give_up(user_id)
    session.close()
    assert relay(client) == [user_id]
    assert relay(client) == [], "just queued again: the new chain gets its whole retry budget"


def test_the_relay_queues_again_an_email_whose_task_was_lost(client, queued):
    user_id = register(client, "ada@example.com").json()["user"]["id"]
    assert relay(client, chain_lasts=timedelta(0)) == [user_id], "queued longer ago than a whole chain lasts"


def test_a_sent_email_is_settled_and_never_relayed(client, queued):
    user_id = register(client, "ada@example.com").json()["user"]["id"]
    service, session = welcome_emails(client)
    assert service.send(user_id) == "sent"
    service.give_up(user_id)  # a late give-up from another delivery changes nothing
    session.close()
    assert relay(client, chain_lasts=timedelta(0)) == []


def test_a_deleted_users_email_leaves_the_outbox_with_them(client, queued):
    user_id = register(client, "ada@example.com").json()["user"]["id"]
    with client.app_state["tenants"].get("acme").sessions() as session:
        session.delete(session.get(User, user_id))
        session.commit()
    assert count_rows(client, WelcomeEmail) == 0

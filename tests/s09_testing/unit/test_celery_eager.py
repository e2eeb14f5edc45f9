"""The welcome-email task in Celery's eager mode: `.delay()` runs it here, at once, with no broker.

Eager mode runs the real task code, arguments through the JSON serializer
included (Celery 5), so these tests prove the task, its service and the mail
server work together, in a fraction of a second. What it hides is everything a
worker adds: the message waiting on a broker, its countdown, its queue, its
acknowledgement. The last test shows one of those; ../e2e runs a real worker.
"""

import time
from collections.abc import Iterator

import pytest

from lessons.s09_testing.models import User, WelcomeEmail
from lessons.s09_testing.settings import get_settings
from lessons.s09_testing.tasks import send_welcome_email
from lessons.s09_testing.worker import celery_app, worker_resources
from workbook.mail_server import MailServer, messages, read_message

pytestmark = pytest.mark.unit


@pytest.fixture
def mail_server(tmp_path) -> Iterator[MailServer]:
    with MailServer(tmp_path / "mailbox", announce=lambda line: None) as server:
        yield server


@pytest.fixture
def eager(monkeypatch, tmp_path, mail_server) -> Iterator[None]:
    """Eager mode, and the task's resources on a SQLite file and the mail server above.

    The task builds its resources itself (worker_resources, cached per process):
    forget them before and after, so this test's settings are the ones it reads.
    """
    monkeypatch.setenv("WORKBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    monkeypatch.setenv("WORKBOOK_SMTP_PORT", str(mail_server.port))
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    get_settings.cache_clear()
    worker_resources.cache_clear()
    yield
    worker_resources().engine.dispose()
    worker_resources.cache_clear()
    get_settings.cache_clear()


def new_user(email: str = "ada@example.com") -> int:
    """A user owed a welcome email, written as UserService writes one."""
    with worker_resources().tenants.get("acme").sessions() as session:
        user = User(email=email, name="Ada", password_hash="not checked here", welcome_email=WelcomeEmail())
        session.add(user)
        session.commit()
        return user.id


def test_the_task_sends_the_welcome_email_with_its_confirmation_code(eager, mail_server):
    user_id = new_user()
    result = send_welcome_email.delay("acme", user_id)
    assert (result.state, result.result) == ("SUCCESS", {"outcome": "sent", "user_id": user_id})
    [message] = [read_message(path) for path in messages(mail_server.directory)]
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Welcome to the Storefront"


def test_running_the_task_twice_sends_one_email(eager, mail_server):
    user_id = new_user()
    send_welcome_email.delay("acme", user_id)
    assert send_welcome_email.delay("acme", user_id).result["outcome"] == "already sent"
    assert len(messages(mail_server.directory)) == 1


def test_an_unknown_tenant_fails_the_task_at_once(eager):
    result = send_welcome_email.delay("initech", 1)
    assert result.state == "FAILURE" and isinstance(result.result, LookupError)


def test_what_eager_hides_a_countdown_is_not_honoured(eager):
    """A worker would hold this message for a minute before running it; eager mode runs it now.

    So a test in eager mode cannot tell a task scheduled for later from one run at
    once: a countdown (or a retry's backoff) is only seen with a real worker.
    """
    started = time.monotonic()
    result = send_welcome_email.apply_async(("initech", 1), countdown=60)
    assert result.state == "FAILURE", "the task already ran, a minute early"
    assert time.monotonic() - started < 30, "nowhere near the minute a worker would wait"

"""WelcomeEmails, the markers and the backoff: plain Python, no FastAPI, no Celery."""

import random
import threading
from email.message import EmailMessage

import fakeredis
import pytest
import structlog

from lessons.s04_celery.mailing import WELCOME_SUBJECT, SmtpMailSender, welcome_message, welcome_message_id
from lessons.s04_celery.markers import RedisOnceMarkers
from lessons.s04_celery.models import User
from lessons.s04_celery.repositories import InMemoryUserRepository
from lessons.s04_celery.retrying import backoff_delay
from lessons.s04_celery.welcome_emails import WelcomeEmails, WelcomeInProgress
from workbook.mail_server import messages, read_message


class RecordingSender:
    def __init__(self, failures: int = 0) -> None:
        self.sent: list[EmailMessage] = []
        self.failures = failures

    def send(self, message: EmailMessage, accepted) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionRefusedError(111, "Connection refused")
        self.sent.append(message)
        accepted()


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs (no except Exception catches it)."""


class DyingAfterTheServerTookIt(RecordingSender):
    """The mail server has the message, then the worker dies before it hears the 250 (or before the confirm)."""

    def send(self, message: EmailMessage, accepted) -> None:
        self.sent.append(message)
        raise WorkerKilled


@pytest.fixture
def users() -> InMemoryUserRepository:
    repository = InMemoryUserRepository()
    repository.add(User(email="ada@example.com", name="Ada"))
    return repository


@pytest.fixture
def markers() -> RedisOnceMarkers:
    return RedisOnceMarkers(fakeredis.FakeRedis())


def welcome(users, sender, markers) -> WelcomeEmails:
    return WelcomeEmails(
        "acme", users, sender, markers, structlog.get_logger(), mail_from="shop@example.com", claim_seconds=60
    )


def test_the_welcome_email_is_addressed_to_the_user(users, markers):
    sender = RecordingSender()
    assert welcome(users, sender, markers).send(1) == "sent"
    [message] = sender.sent
    assert (message["To"], message["Subject"], message["From"]) == (
        "ada@example.com",
        WELCOME_SUBJECT,
        "shop@example.com",
    )
    assert "Hello Ada" in message.get_content()


def test_a_second_run_sends_nothing(users, markers):
    sender = RecordingSender()
    service = welcome(users, sender, markers)
    assert [service.send(1), service.send(1)] == ["sent", "already sent"]
    assert len(sender.sent) == 1
    assert markers.state(service.marker_key(1)) == "sent"


def test_a_failed_send_releases_the_claim_so_the_retry_can_send(users, markers):
    sender = RecordingSender(failures=1)
    service = welcome(users, sender, markers)
    with pytest.raises(ConnectionRefusedError):
        service.send(1)
    assert markers.state(service.marker_key(1)) is None, "the claim must not outlive a failed send"
    assert service.send(1) == "sent"
    assert len(sender.sent) == 1


def test_a_claim_held_by_a_dead_run_asks_for_a_retry_until_its_lease_expires(users):
    server = fakeredis.FakeRedis()
    markers = RedisOnceMarkers(server)
    sender = RecordingSender()
    service = welcome(users, sender, markers)
    assert markers.claim(service.marker_key(1), lease_seconds=60)  # a worker claimed, then died
    with pytest.raises(WelcomeInProgress):
        service.send(1)  # not "already sent": nothing was sent, so the redelivery must try again later
    assert sender.sent == []
    assert 0 < server.ttl(service.marker_key(1)) <= 60, "the dead worker's claim has a lease..."
    server.delete(service.marker_key(1))  # ...which is what its expiry looks like
    assert service.send(1) == "sent"
    assert len(sender.sent) == 1


def test_a_deleted_user_gets_nothing_and_nothing_is_retried(markers):
    assert welcome(InMemoryUserRepository(), RecordingSender(), markers).send(42) == "no such user"


def test_two_deliveries_racing_claim_once(markers):
    """Eight threads claim the same key at the same moment: SET NX lets exactly one win."""
    start = threading.Barrier(8)
    wins: list[bool] = []

    def claim() -> None:
        start.wait()
        wins.append(markers.claim("welcome-email:acme:1", 60))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 7 + [True]


def test_the_smtp_sender_really_talks_smtp(mail_server):
    user = User(id=1, email="ada@example.com", name="Ada")
    stored_when_accepted: list[int] = []
    SmtpMailSender("127.0.0.1", mail_server.port, timeout=5).send(
        welcome_message("shop@example.com", user, "<welcome.acme.1@example.com>"),
        accepted=lambda: stored_when_accepted.append(len(messages(mail_server.directory))),
    )
    [path] = messages(mail_server.directory)
    assert read_message(path)["To"] == "ada@example.com"
    assert stored_when_accepted == [1], "accepted() runs once, after the server has stored the message"


def test_every_copy_of_a_users_welcome_email_has_one_message_id(users, markers):
    """A crash after the server took the message and before the confirm: the one duplicate the
    service allows, once the dead run's lease has expired. Downstream can tell it is a copy."""
    dying = DyingAfterTheServerTookIt()
    service = welcome(users, dying, markers)
    with pytest.raises(WorkerKilled):
        service.send(1)
    assert markers.state(service.marker_key(1)) == "claimed", "never confirmed: the run died"
    markers.redis.delete(service.marker_key(1))  # the lease expires
    sender = RecordingSender()
    assert welcome(users, sender, markers).send(1) == "sent"
    [first], [second] = dying.sent, sender.sent
    assert first["Message-ID"] == second["Message-ID"] == welcome_message_id("shop@example.com", "acme", 1)
    assert markers.state(service.marker_key(1)) == "sent"


def test_the_message_id_names_the_email_not_the_attempt():
    assert welcome_message_id("Storefront <hello@storefront.example>", "acme", 7) == (
        "<welcome.acme.7@storefront.example>"
    )
    assert welcome_message_id("hello@storefront.example", "globex", 7) != welcome_message_id(
        "hello@storefront.example", "acme", 7
    )


def test_the_smtp_sender_raises_connection_refused_when_the_server_is_down(mail_server):
    mail_server.stop()
    user = User(id=1, email="ada@example.com", name="Ada")
    with pytest.raises(ConnectionRefusedError):
        SmtpMailSender("127.0.0.1", mail_server.port, timeout=5).send(
            welcome_message("shop@example.com", user, "<welcome.acme.1@example.com>"), accepted=lambda: None
        )


@pytest.mark.parametrize("retries", range(8))
def test_backoff_doubles_with_jitter_and_a_cap(retries):
    rng = random.Random(retries)
    delays = [backoff_delay(retries, base=1.0, cap=30.0, rng=rng) for _ in range(200)]
    ceiling = min(30.0, 2.0**retries)
    assert all(ceiling / 2 <= delay <= ceiling for delay in delays), "between half the ceiling and the ceiling"
    assert max(delays) - min(delays) > ceiling / 4, "jitter spreads the retries out"


def test_backoff_never_exceeds_the_cap():
    assert max(backoff_delay(50, base=1.0, cap=60.0) for _ in range(100)) <= 60.0

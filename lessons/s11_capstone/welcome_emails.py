"""Welcome emails, sent by a Celery task through this framework-free service.

It is handed a repository, a mail sender, claim-then-confirm markers, a
logger and what makes the email's confirmation code, so the worker builds it
from its resources and a test from fakes.
"""

from collections.abc import Callable
from typing import Protocol

from structlog.typing import FilteringBoundLogger

from .mailing import MailSender, welcome_message, welcome_message_id
from .models import User, utc_now
from .repositories import UserRepository


class OnceMarkers(Protocol):
    """Claim-then-confirm markers (see markers.py for the Redis adapter)."""

    def claim(self, key: str, lease_seconds: int) -> bool: ...

    def confirm(self, key: str) -> None: ...

    def release(self, key: str) -> None: ...

    def was_sent(self, key: str) -> bool: ...


class WelcomeInProgress(RuntimeError):
    """Another run holds the claim on this email: it is sending now, or it died mid-send."""

    def __init__(self, user_id: int) -> None:
        super().__init__(f"Another run is sending user {user_id}'s welcome email; try again later")


class WelcomeEmails:
    """Sends a user's welcome email; never twice except across a crash in one narrow window.

    The caller retries on failure; this class makes a second delivery of the
    same job harmless. The user is read fresh from the repository: the job
    carries ids, not a copy of the user that may be stale by the time it runs.

    What is promised, exactly: a run sends only while it holds the claim, and
    confirms the moment the mail server has accepted the message. A second copy
    goes out only if a run dies after the server took the message and before its
    confirm reached Redis (the server's reply to the message, then one Redis
    command), and only once the dead run's lease has expired. So each crash in
    that window costs at most one duplicate, and the duplicate carries the same
    Message-ID. Never "exactly once": SMTP has no way to ask "did you already
    take this?", so nothing on this side can close that window completely.
    """

    def __init__(
        self,
        tenant_id: str,
        users: UserRepository,
        mailer: MailSender,
        markers: OnceMarkers,
        logger: FilteringBoundLogger,
        mail_from: str,
        claim_seconds: int,
        confirmation_code: Callable[[User], str],
    ) -> None:
        self.tenant_id = tenant_id
        self.users = users
        self.mailer = mailer
        self.markers = markers
        self.logger = logger.bind(tenant=tenant_id)
        self.mail_from = mail_from
        self.claim_seconds = claim_seconds
        self.confirmation_code = confirmation_code  # email_confirmation.py

    def marker_key(self, user_id: int) -> str:
        return f"welcome-email:{self.tenant_id}:{user_id}"

    def send(self, user_id: int) -> str:
        """Answers "sent", "already sent" or "no such user".

        Raises OSError when the mail server fails, and WelcomeInProgress while
        another run holds the claim: both are worth retrying later.
        """
        user = self.users.get(user_id)
        if user is None:
            # Deleted before the job ran (its outbox row went with it): nothing to send or retry.
            self.logger.info("welcome.no_such_user", user_id=user_id)
            return "no such user"
        key = self.marker_key(user_id)
        if not self.markers.claim(key, self.claim_seconds):
            if self.markers.was_sent(key):
                self.logger.info("welcome.skipped_duplicate", user_id=user_id)
                self._settle(user)  # a run that confirmed may have died before settling the outbox
                return "already sent"
            # Not "done": the holder may have died mid-send (with late acks, that is
            # exactly when this delivery arrives). Retry; once the dead run's lease
            # expires, a retry claims the email and sends it.
            raise WelcomeInProgress(user_id)
        message_id = welcome_message_id(self.mail_from, self.tenant_id, user_id)
        message = welcome_message(self.mail_from, user, message_id, self.confirmation_code(user))
        try:
            # Confirm inside the SMTP conversation, the moment the server said 250.
            self.mailer.send(message, accepted=lambda: self.markers.confirm(key))
        except Exception:
            if not self.markers.was_sent(key):
                self.markers.release(key)  # the retry must be able to claim it again
                raise
            # Failed after the server took it (the goodbye, say): it was sent; carry on.
        self.logger.info("welcome.sent", user_id=user_id, to=user.email)
        self._settle(user)
        return "sent"

    def give_up(self, user_id: int) -> None:
        """The retries ran out: hand the email back to the outbox, for the relay to queue again."""
        user = self.users.get(user_id)
        if user is not None and user.welcome_email is not None and user.welcome_email.sent_at is None:
            user.welcome_email.queued_at = None
            self.users.commit()

    def _settle(self, user: User) -> None:
        """Mark the outbox row sent, so the relay stops queueing it (after the marker: Redis decides)."""
        # A user added by hand (a test, a shell) has no outbox row.
        if user.welcome_email is not None and user.welcome_email.sent_at is None:
            user.welcome_email.sent_at = utc_now()
            self.users.commit()

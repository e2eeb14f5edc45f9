"""The business rules for users. Nothing here knows about HTTP, FastAPI, Celery or
SQLAlchemy: a service is handed a repository (any object that fits the
UserRepository port), a mail sender, markers, a logger, so a route builds
UserService from its dependencies and a Celery task builds WelcomeEmails from
the worker's resources, and a test can build either with fakes."""

from typing import Protocol

from structlog.typing import FilteringBoundLogger

from .mailing import MailSender, welcome_message
from .models import User
from .repositories import EmailAlreadyRegistered, UserRepository


class UserNotFound(LookupError):
    def __init__(self, user_id: int) -> None:
        super().__init__(f"No user with id {user_id}")


class AuditTrail(Protocol):
    def record(self, action: str, subject: str) -> None: ...


class OnceMarkers(Protocol):
    """Claim-then-confirm markers (see markers.py for the Redis adapter)."""

    def claim(self, key: str, lease_seconds: int) -> bool: ...

    def confirm(self, key: str) -> None: ...

    def release(self, key: str) -> None: ...

    def was_sent(self, key: str) -> bool: ...


class UserService:
    def __init__(self, users: UserRepository, audit: AuditTrail, logger: FilteringBoundLogger) -> None:
        self.users = users
        self.audit = audit
        self.logger = logger

    def register(self, email: str, name: str) -> User:
        if self.users.get_by_email(email) is not None:
            raise EmailAlreadyRegistered(email)
        user = self.users.add(User(email=email, name=name))
        self.audit.record("user.registered", email)
        # Commit here, before the route returns: the response must not claim
        # success for a write the database then refuses.
        self.users.commit()
        self.logger.info("user.registered", user_id=user.id)
        return user

    def get(self, user_id: int) -> User:
        user = self.users.get(user_id)
        if user is None:
            self.logger.info("user.not_found", user_id=user_id)
            raise UserNotFound(user_id)
        return user

    def delete(self, user_id: int) -> None:
        user = self.get(user_id)
        self.users.delete(user)
        self.audit.record("user.deleted", user.email)
        self.users.commit()
        self.logger.info("user.deleted", user_id=user.id)


class WelcomeInProgress(RuntimeError):
    """Another run holds the claim on this email: it is sending now, or it died mid-send."""

    def __init__(self, user_id: int) -> None:
        super().__init__(f"Another run is sending user {user_id}'s welcome email; try again later")


class WelcomeEmails:
    """Sends a user's welcome email at most once per successful send.

    The caller retries on failure; this class makes a second delivery of the
    same job harmless. The user is read fresh from the repository: the job
    carries ids, not a copy of the user that may be stale by the time it runs.
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
    ) -> None:
        self.tenant_id = tenant_id
        self.users = users
        self.mailer = mailer
        self.markers = markers
        self.logger = logger.bind(tenant=tenant_id)
        self.mail_from = mail_from
        self.claim_seconds = claim_seconds

    def marker_key(self, user_id: int) -> str:
        return f"welcome-email:{self.tenant_id}:{user_id}"

    def send(self, user_id: int) -> str:
        """Answers "sent", "already sent" or "no such user".

        Raises OSError when the mail server fails, and WelcomeInProgress while
        another run holds the claim: both are worth retrying later.
        """
        user = self.users.get(user_id)
        if user is None:
            # Deleted before the job ran: nothing to send, and nothing to retry.
            self.logger.info("welcome.no_such_user", user_id=user_id)
            return "no such user"
        key = self.marker_key(user_id)
        if not self.markers.claim(key, self.claim_seconds):
            if self.markers.was_sent(key):
                self.logger.info("welcome.skipped_duplicate", user_id=user_id)
                return "already sent"
            # Not "done": the holder may have died mid-send (with late acks, that is
            # exactly when this delivery arrives). Retry; once the dead run's lease
            # expires, a retry claims the email and sends it.
            raise WelcomeInProgress(user_id)
        try:
            self.mailer.send(welcome_message(self.mail_from, user))
        except Exception:
            self.markers.release(key)  # the retry must be able to claim it again
            raise
        # The window: a crash right here, after the server took the mail and before
        # the confirm, leaves an unconfirmed claim; once its lease expires a
        # redelivery sends a second email. Nothing on our side can close it (SMTP
        # has no "send once" token); it is as short as one Redis command.
        self.markers.confirm(key)
        self.logger.info("welcome.sent", user_id=user_id, to=user.email)
        return "sent"

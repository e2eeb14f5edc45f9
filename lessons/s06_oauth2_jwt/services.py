"""The business rules for users. Nothing here knows about HTTP, FastAPI, Celery or
SQLAlchemy: a service is handed a repository (any object that fits the
UserRepository port), a mail sender, markers, a logger, so a route builds
UserService from its dependencies and a Celery task builds WelcomeEmails from
the worker's resources, and a test can build either with fakes."""

from typing import Protocol

from structlog.typing import FilteringBoundLogger

from .mailing import MailSender, welcome_message, welcome_message_id
from .models import User, WelcomeEmail, utc_now
from .passwords import PasswordHasher
from .repositories import EmailAlreadyRegistered, UserRepository


class UserNotFound(LookupError):
    def __init__(self, user_id: int) -> None:
        super().__init__(f"No user with id {user_id}")


class WrongPassword(ValueError):
    def __init__(self) -> None:
        super().__init__("The current password is not correct")


class AuditTrail(Protocol):
    def record(self, action: str, subject: str) -> None: ...


class OnceMarkers(Protocol):
    """Claim-then-confirm markers (see markers.py for the Redis adapter)."""

    def claim(self, key: str, lease_seconds: int) -> bool: ...

    def confirm(self, key: str) -> None: ...

    def release(self, key: str) -> None: ...

    def was_sent(self, key: str) -> bool: ...


class UserService:
    def __init__(
        self, users: UserRepository, audit: AuditTrail, logger: FilteringBoundLogger, passwords: PasswordHasher
    ) -> None:
        self.users = users
        self.audit = audit
        self.logger = logger
        self.passwords = passwords

    def register(self, email: str, name: str, password: str, is_admin: bool = False) -> User:
        if self.users.get_by_email(email) is not None:
            raise EmailAlreadyRegistered(email)
        user = User(email=email, name=name, password_hash=self.passwords.hash(password), is_admin=is_admin)
        # The welcome email it is owed goes into the outbox with it: one commit saves both or neither.
        user.welcome_email = WelcomeEmail()
        user = self.users.add(user)
        self.audit.record("user.registered", email)
        # Commit here, before the route returns: the response must not claim
        # success for a write the database then refuses.
        self.users.commit()
        self.logger.info("user.registered", user_id=user.id)
        return user

    def authenticate(self, email: str, password: str) -> User | None:
        """The user whose email and password these are, or None; as slow for an unknown email as for a known one."""
        user = self.users.get_by_email(email)
        if user is None:
            # Spend the same bcrypt work as a real check, so the time taken does
            # not reveal that no account has this email.
            self.passwords.verify_unknown_user(password)
            return None
        if not self.passwords.verify(password, user.password_hash):
            return None
        return user

    def change_password(self, user: User, current_password: str, new_password: str) -> None:
        if not self.passwords.verify(current_password, user.password_hash):
            raise WrongPassword()
        user.password_hash = self.passwords.hash(new_password)
        # Every token issued before now carries the old version: all of them stop working.
        user.token_version += 1
        self.audit.record("user.password_changed", user.email)
        self.users.commit()
        self.logger.info("user.password_changed", user_id=user.id)

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
        message = welcome_message(self.mail_from, user, welcome_message_id(self.mail_from, self.tenant_id, user_id))
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

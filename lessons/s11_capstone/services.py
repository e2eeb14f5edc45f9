"""The business rules for users. Nothing here knows about HTTP, FastAPI, Celery or
SQLAlchemy: a service is handed a repository (any object that fits the
UserRepository port), an audit trail and a logger, so a route builds UserService
from its dependencies and a test can build it with fakes. The welcome email's
service, run by a Celery task, is welcome_emails.py."""

from dataclasses import dataclass
from typing import Protocol

from structlog.typing import FilteringBoundLogger

from .models import User, WelcomeEmail
from .passwords import PasswordHasher
from .repositories import EmailAlreadyRegistered, UserRepository


class UserNotFound(LookupError):
    def __init__(self, user_id: int) -> None:
        super().__init__(f"No user with id {user_id}")


class WrongPassword(ValueError):
    def __init__(self) -> None:
        super().__init__("The current password is not correct")


@dataclass(frozen=True)
class SignUp:
    """What a registration did: made a new account, or found the one the email already has.

    Both are None only if that account was deleted while the registration raced it.
    """

    created: User | None = None
    existing: User | None = None


class AuditTrail(Protocol):
    def record(self, action: str, subject: str) -> None: ...


class UserService:
    def __init__(
        self, users: UserRepository, audit: AuditTrail, logger: FilteringBoundLogger, passwords: PasswordHasher
    ) -> None:
        self.users = users
        self.audit = audit
        self.logger = logger
        self.passwords = passwords

    def register(
        self, email: str, name: str, password: str, role: str = "customer", email_confirmed: bool = False
    ) -> SignUp:
        """Make the account, or find the one this email already has; the caller answers both alike.

        The password is hashed either way, so both cost the same bcrypt work and the
        time taken does not tell a caller which happened.
        """
        password_hash = self.passwords.hash(password)
        existing = self.users.get_by_email(email)
        if existing is not None:
            return self._already_registered(existing)
        user = User(email=email, name=name, password_hash=password_hash, role=role, email_confirmed=email_confirmed)
        # The welcome email it is owed goes into the outbox with it: one commit saves both or neither.
        user.welcome_email = WelcomeEmail()
        try:
            user = self.users.add(user)
        except EmailAlreadyRegistered:
            # A second registration of this email raced past the check above and lost
            # at the unique index: answer it as any registration of a known email.
            self.users.rollback()
            return self._already_registered(self.users.get_by_email(email))
        self.audit.record("user.registered", email)
        # Commit here, before the route returns: the response must not claim
        # success for a write the database then refuses.
        self.users.commit()
        self.logger.info("user.registered", user_id=user.id)
        return SignUp(created=user)

    def _already_registered(self, user: User | None) -> SignUp:
        if user is not None:
            self.audit.record("user.registered_again", user.email)
            self.users.commit()
            self.logger.info("user.registered_again", user_id=user.id)
        return SignUp(existing=user)

    def confirm_email(self, user_id: int) -> None:
        """The owner followed the link in their welcome email: the account may now log in."""
        user = self.get(user_id)
        if not user.email_confirmed:
            user.email_confirmed = True
            self.audit.record("user.email_confirmed", user.email)
            self.users.commit()

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
        # Refused like a wrong password: were an unconfirmed account told apart, anyone could
        # register someone's email, log in with their own password and learn whether it was free.
        if not user.email_confirmed:
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

    def update_profile(self, user: User, name: str | None) -> User:
        if name is not None:
            user.name = name
        self.audit.record("user.profile_updated", user.email)
        self.users.commit()
        return user

    def change_role(self, user_id: int, role: str) -> User:
        user = self.get(user_id)
        user.role = role
        # Tokens carry scopes chosen from the OLD role: make them all stale, so
        # the next log-in picks scopes from the new one. The version is also part
        # of every permission-cache key, so no cached decision survives either.
        user.token_version += 1
        self.audit.record("user.role_changed", user.email)
        self.users.commit()
        self.logger.info("user.role_changed", user_id=user.id, role=role)
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

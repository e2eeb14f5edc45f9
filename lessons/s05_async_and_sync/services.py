"""The business rules for users. Nothing here knows about HTTP, FastAPI, Celery or
SQLAlchemy: a service is handed a repository (any object that fits the
UserRepository port), an audit trail and a logger, so a route builds UserService
from its dependencies and a test can build it with fakes. The welcome email's
service, run by a Celery task, is welcome_emails.py."""

from typing import Protocol

from structlog.typing import FilteringBoundLogger

from .models import User, WelcomeEmail
from .repositories import EmailAlreadyRegistered, UserRepository


class UserNotFound(LookupError):
    def __init__(self, user_id: int) -> None:
        super().__init__(f"No user with id {user_id}")


class AuditTrail(Protocol):
    def record(self, action: str, subject: str) -> None: ...


class UserService:
    def __init__(self, users: UserRepository, audit: AuditTrail, logger: FilteringBoundLogger) -> None:
        self.users = users
        self.audit = audit
        self.logger = logger

    def register(self, email: str, name: str) -> User:
        if self.users.get_by_email(email) is not None:
            raise EmailAlreadyRegistered(email)
        # The welcome email it is owed goes into the outbox with it: one commit saves both or neither.
        user = self.users.add(User(email=email, name=name, welcome_email=WelcomeEmail()))
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

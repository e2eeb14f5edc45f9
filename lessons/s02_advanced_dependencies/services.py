"""The business rules for users. Nothing here knows about HTTP, FastAPI or
SQLAlchemy: the service is handed a repository (any object that fits the
UserRepository port), an audit trail and a logger, so a test, a script or a
background task can build one just as easily as a route does."""

from typing import Protocol

from structlog.typing import FilteringBoundLogger

from .models import User
from .repositories import EmailAlreadyRegistered, UserRepository


class UserNotFound(LookupError):
    def __init__(self, email: str) -> None:
        super().__init__(f"No user with email {email!r}")


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
        user = self.users.add(User(email=email, name=name))
        self.audit.record("user.registered", email)
        # Commit here, before the route returns: the response must not claim
        # success for a write the database then refuses.
        self.users.commit()
        self.logger.info("user.registered", user_id=user.id)
        return user

    def get_by_email(self, email: str) -> User:
        user = self.users.get_by_email(email)
        if user is None:
            self.logger.info("user.not_found", email=email)
            raise UserNotFound(email)
        return user

    def delete(self, email: str) -> None:
        user = self.get_by_email(email)
        self.users.delete(user)
        self.audit.record("user.deleted", email)
        self.users.commit()
        self.logger.info("user.deleted", user_id=user.id)

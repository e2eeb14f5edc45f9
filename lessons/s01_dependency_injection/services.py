"""The business rules for users. Nothing here knows about HTTP or FastAPI: the
service is handed its session and logger, so a test, a script or a background
task can build one just as easily as a route does."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from structlog.typing import FilteringBoundLogger

from .models import AuditEvent, User


class UserNotFound(LookupError):
    def __init__(self, email: str) -> None:
        super().__init__(f"No user with email {email!r}")


class EmailAlreadyRegistered(ValueError):
    def __init__(self, email: str) -> None:
        super().__init__(f"A user with email {email!r} already exists")


class AuditLog:
    """Records audit events in the session it is given, so they commit (or roll
    back) together with the change they describe."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, action: str, subject: str) -> None:
        self.session.add(AuditEvent(action=action, subject=subject))


class UserService:
    def __init__(self, session: Session, audit: AuditLog, logger: FilteringBoundLogger) -> None:
        self.session = session
        self.audit = audit
        self.logger = logger

    def register(self, email: str, name: str) -> User:
        if self.session.scalar(select(User.id).where(User.email == email)) is not None:
            raise EmailAlreadyRegistered(email)
        user = User(email=email, name=name)
        self.session.add(user)
        self.audit.record("user.registered", email)
        try:
            # Commit here, before the route returns: the response must not claim
            # success for a write the database then refuses.
            self.session.commit()
        except IntegrityError as error:
            # Two registrations raced past the check above; the unique index stopped the second.
            raise EmailAlreadyRegistered(email) from error
        self.logger.info("user.registered", user_id=user.id)
        return user

    def get_by_email(self, email: str) -> User:
        user = self.session.scalar(select(User).where(User.email == email))
        if user is None:
            self.logger.info("user.not_found", email=email)
            raise UserNotFound(email)
        return user

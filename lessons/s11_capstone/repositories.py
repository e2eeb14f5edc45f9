"""Where users (and their audit events) are kept: one port, two adapters.

`UserRepository` is the port, the only thing UserService knows about storage.
`SqlAlchemyUserRepository` is the adapter the app uses; `InMemoryUserRepository`
keeps users in a dict, for tests and experiments that need no database. Any
object with these methods fits the Protocol: no inheritance required.
"""

from itertools import count
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import AuditEvent, User


class EmailAlreadyRegistered(ValueError):
    def __init__(self, email: str) -> None:
        super().__init__(f"A user with email {email!r} already exists")


class UserRepository(Protocol):
    def add(self, user: User) -> User:
        """Store a new user and give it an id; raises EmailAlreadyRegistered."""
        ...

    def get(self, user_id: int) -> User | None: ...

    def get_by_email(self, email: str) -> User | None: ...

    def delete(self, user: User) -> None: ...

    def list_all(self) -> list[User]:
        """Every user, in id (registration) order."""
        ...

    def commit(self) -> None:
        """Make the changes so far permanent."""
        ...

    def rollback(self) -> None:
        """Drop the changes since the last commit (after add() was refused, say)."""
        ...


class SqlAlchemyUserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, user: User) -> User:
        self.session.add(user)
        try:
            self.session.flush()  # sends the INSERT now, so the id is known
        except IntegrityError as error:
            # Two registrations raced past the service's check; the unique index stopped the second.
            raise EmailAlreadyRegistered(user.email) from error
        return user

    def get(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def get_by_email(self, email: str) -> User | None:
        return self.session.scalar(select(User).where(User.email == email))

    def delete(self, user: User) -> None:
        self.session.delete(user)

    def list_all(self) -> list[User]:
        return list(self.session.scalars(select(User).order_by(User.id)))

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


class InMemoryUserRepository:
    def __init__(self) -> None:
        self._users: dict[str, User] = {}
        self._ids = count(1)

    def add(self, user: User) -> User:
        if user.email in self._users:
            raise EmailAlreadyRegistered(user.email)
        fill_column_defaults(user)
        user.id = next(self._ids)
        self._users[user.email] = user
        return user

    def get(self, user_id: int) -> User | None:
        return next((user for user in self._users.values() if user.id == user_id), None)

    def get_by_email(self, email: str) -> User | None:
        return self._users.get(email)

    def delete(self, user: User) -> None:
        del self._users[user.email]

    def list_all(self) -> list[User]:
        return sorted(self._users.values(), key=lambda user: user.id)

    def commit(self) -> None:
        pass  # every change is already final: there is no transaction to end

    def rollback(self) -> None:
        pass  # add() refused before changing anything: there is nothing to undo


def fill_column_defaults(user: User) -> None:
    """Do what the database's INSERT does: a column left unset takes its default (token_version 0).

    Without this a user stored here has token_version None, and the first password
    change fails with a TypeError that no user stored by SQLAlchemy ever meets.
    """
    for column in User.__table__.columns:
        if column.default is not None and column.default.is_scalar and getattr(user, column.key) is None:
            setattr(user, column.key, column.default.arg)


class AuditLog:
    """Records audit events in the session it is given. The request's repository
    uses that same session, so its commit writes (or its rollback drops) the
    change and the event that describes it together."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, action: str, subject: str) -> None:
        self.session.add(AuditEvent(action=action, subject=subject))

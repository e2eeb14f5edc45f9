"""Tables, as SQLAlchemy 2 typed mappings.

Each table sits in the placeholder schema `TENANT_SCHEMA`: every tenant has its
own copy, and the tenant's engine says which (see database.py).
"""

from datetime import UTC, datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from .database import TENANT_SCHEMA, Base


class User(Base):
    __tablename__ = "users"
    __table_args__ = {"schema": TENANT_SCHEMA}

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class AuditEvent(Base):
    """Who did what: written in the same transaction as the change it records."""

    __tablename__ = "audit_events"
    __table_args__ = {"schema": TENANT_SCHEMA}

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(320))
    # An aware UTC time: datetime.utcnow() is deprecated and carries no time zone.
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(UTC))

"""Tables, as SQLAlchemy 2 typed mappings.

Each table sits in the placeholder schema `TENANT_SCHEMA`: every tenant has its
own copy, and the tenant's engine says which (see database.py).
"""

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .database import TENANT_SCHEMA, Base


def utc_now() -> datetime:
    # An aware UTC time: datetime.utcnow() is deprecated and carries no time zone.
    return datetime.now(UTC)


class User(Base):
    __tablename__ = "users"
    # AUTOINCREMENT on SQLite: an id is never handed out twice, so a token (whose
    # `sub` is the id) of a deleted user can never open a newcomer's account.
    # PostgreSQL's sequences never reuse an id anyway.
    __table_args__ = {"schema": TENANT_SCHEMA, "sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # A bcrypt hash ("$2b$12$..."), never the password. 60 characters for bcrypt; room for a future scheme.
    password_hash: Mapped[str] = mapped_column(String(255))
    # customer, staff or admin (roles.py): which scopes a log-in grants and which permissions apply.
    role: Mapped[str] = mapped_column(String(20), default="customer")
    # Every token carries the version it was issued at; bumping it (a password
    # change, a new role) makes all of them stale at once, without a list of what was issued.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    # Set when the owner uses the code in their welcome email. Until then the account
    # cannot log in, so registering someone else's address gains nothing.
    email_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Deleting a user deletes their profile image's row too (the files go in a background task).
    profile_image: Mapped["ProfileImage | None"] = relationship(back_populates="user", cascade="all, delete-orphan")
    # The welcome email this user is owed, kept until it has gone out (see WelcomeEmail).
    welcome_email: Mapped["WelcomeEmail | None"] = relationship(cascade="all, delete-orphan")


class ProfileImage(Base):
    """A user's uploaded original: the file is on disk (media.py), its facts are here."""

    __tablename__ = "profile_images"
    __table_args__ = {"schema": TENANT_SCHEMA}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(User.id, ondelete="CASCADE"), unique=True)
    format: Mapped[str] = mapped_column(String(10))
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    user: Mapped[User] = relationship(back_populates="profile_image")


class AuditEvent(Base):
    """Who did what: written in the same transaction as the change it records."""

    __tablename__ = "audit_events"
    __table_args__ = {"schema": TENANT_SCHEMA}

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class RolePermission(Base):
    """One thing a role may do in this tenant: ("admin", "users:delete"), say."""

    __tablename__ = "role_permissions"
    __table_args__ = (UniqueConstraint("role", "permission"), {"schema": TENANT_SCHEMA})

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    permission: Mapped[str] = mapped_column(String(50))


class WelcomeEmail(Base):
    """The outbox: a welcome email that must go out, written in the same transaction as its user.

    A queued Celery task can be lost in ways no retry covers: the broker was down
    when the route queued it, or the mail server stayed down past the last retry.
    This row cannot be: it commits with the user or not at all, and it stays
    unsent until a worker has handed the email to the mail server. A periodic job
    (outbox.py, run by Celery beat) queues the task again for every row that
    still needs it, however long the outage was.
    """

    __tablename__ = "welcome_emails"
    __table_args__ = {"schema": TENANT_SCHEMA}

    user_id: Mapped[int] = mapped_column(ForeignKey(User.id, ondelete="CASCADE"), primary_key=True)
    # When the task was last put on the broker for it; None means "queue it at the
    # next relay" (the retries ran out). Registration queues it at once, so: now.
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=utc_now)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Product(Base):
    """One product of the tenant's catalogue, addressed by its SKU (stock-keeping unit)."""

    __tablename__ = "products"
    # The database refuses negative stock itself, whatever code writes the row.
    __table_args__ = (CheckConstraint("stock >= 0", name="stock_not_negative"), {"schema": TENANT_SCHEMA})

    sku: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Money as an exact decimal (NUMERIC(10, 2)): a float cannot hold 0.10 exactly.
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    stock: Mapped[int] = mapped_column(Integer)


class Order(Base):
    """A customer's order: its lines, what it cost, and where its payment stands.

    `status` is "pending" while the card is charged, then "paid" or "failed"
    (orders.py says why a failed order is kept rather than deleted).
    """

    __tablename__ = "orders"
    __table_args__ = {"schema": TENANT_SCHEMA, "sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    # SET NULL, not CASCADE: deleting an account must not erase the shop's record of a sale.
    user_id: Mapped[int | None] = mapped_column(ForeignKey(User.id, ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    # The provider's id for the charge, once it succeeded.
    charge_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    # selectin: an order is always shown with its lines, loaded in one more query, never one per line.
    items: Mapped[list["OrderItem"]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class OrderItem(Base):
    """One line of an order: a product, how many, and its price when ordered (a later price change keeps it)."""

    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"), {"schema": TENANT_SCHEMA})

    order_id: Mapped[int] = mapped_column(ForeignKey(Order.id, ondelete="CASCADE"), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey(Product.sku), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2))

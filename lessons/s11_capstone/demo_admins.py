"""One admin per demo tenant, so a learner can try the admin routes straight away.

`admin@acme.example`, `admin@globex.example` (one per tenant in the settings),
with the password WORKBOOK_DEMO_ADMIN_PASSWORD. They exist only because
`seed_demo_admins` is on, which it is by default for learning; with
WORKBOOK_ENVIRONMENT=production the app refuses to start while it is on
(production_checks.py): a known account with a known password has no place on a
real server, so WORKBOOK_SEED_DEMO_ADMINS=false. Real admins are made by whoever runs the shop.
"""

import structlog

from .database import hold_startup_lock
from .passwords import PasswordHasher
from .repositories import AuditLog, SqlAlchemyUserRepository
from .roles import Role
from .services import UserService
from .settings import Settings
from .tenancy import TenantRegistry


def demo_admin_email(tenant_id: str) -> str:
    return f"admin@{tenant_id}.example"


def seed_demo_admins(tenants: TenantRegistry, passwords: PasswordHasher, settings: Settings) -> None:
    if not settings.seed_demo_admins:
        return
    password = settings.demo_admin_password.get_secret_value()
    logger = structlog.get_logger()
    for tenant in tenants:
        with tenant.sessions() as session:
            # Several processes start at once: each looks for the admin and adds it
            # only after the others are done (held until register() commits).
            hold_startup_lock(session.connection())
            users = UserService(SqlAlchemyUserRepository(session), AuditLog(session), logger, passwords)
            if users.users.get_by_email(demo_admin_email(tenant.id)) is None:
                users.register(
                    demo_admin_email(tenant.id), "Demo admin", password, role=Role.ADMIN, email_confirmed=True
                )

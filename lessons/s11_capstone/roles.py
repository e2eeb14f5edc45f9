"""Roles, and what each may do: the scopes its tokens carry and the permissions it holds.

A role is what a user IS (customer, staff, admin), stored on the user row.
SCOPES are what a TOKEN may be used for: chosen from the role at log-in and
written into the token, so a route can check them without the database.
PERMISSIONS are what the server decides for each action, from the role's rows in
the role_permissions table: the authority, and the part worth caching (see
permissions.py). A route asks for both: the token must carry the scope AND the
user must hold the permission.
"""

from enum import StrEnum

from sqlalchemy import select

from .database import hold_startup_lock
from .models import RolePermission
from .tenancy import TenantRegistry


class Role(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    ADMIN = "admin"


# The scopes a log-in grants for each role (a client may ask for fewer, never more).
ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.CUSTOMER: frozenset({"me"}),
    Role.STAFF: frozenset({"me", "users:read"}),
    Role.ADMIN: frozenset({"me", "users:read", "users:write", "admin"}),
}

# Every scope the API knows, described for the Authorize dialog of /docs.
SCOPE_DESCRIPTIONS = {
    "me": "Act as yourself: read and edit your own profile",
    "users:read": "Read any user of the tenant",
    "users:write": "Edit any user of the tenant",
    "admin": "Administer the tenant: delete users, assign roles, edit products",
}

# What each role may do, written to every tenant's role_permissions table at start-up.
DEFAULT_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.CUSTOMER: frozenset(),
    Role.STAFF: frozenset({"users:read"}),
    Role.ADMIN: frozenset({"users:read", "users:edit", "users:delete", "roles:assign", "products:edit"}),
}


def scopes_for(role: str) -> frozenset[str]:
    return ROLE_SCOPES[Role(role)]


def seed_role_permissions(tenants: TenantRegistry) -> None:
    """Write the default permissions into each tenant that has none yet."""
    for tenant in tenants:
        with tenant.sessions() as session:
            # Check and write while no other starting process can (held until the commit).
            hold_startup_lock(session.connection())
            if session.scalar(select(RolePermission).limit(1)) is not None:
                continue
            session.add_all(
                RolePermission(role=role, permission=permission)
                for role, permissions in DEFAULT_PERMISSIONS.items()
                for permission in permissions
            )
            session.commit()

"""The tenants this app serves, known at start-up and looked up per request.

A tenant id arrives in a header, so it is untrusted text. It is checked against
a strict pattern and then looked up in the registry; only a registered tenant
leads to a schema, and the schema name is built here, never from the header.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from .database import tenant_engine
from .schema_migrations import migrate_schema, require_head

# fullmatch, not match: `$` would also accept a trailing newline.
TENANT_ID = re.compile(r"[a-z][a-z0-9_]{1,30}")


def is_valid_tenant_id(value: str) -> bool:
    return TENANT_ID.fullmatch(value) is not None


def schema_for(tenant_id: str) -> str:
    """The tenant's schema name; refuses any id that is not safe to use as one."""
    if not is_valid_tenant_id(tenant_id):
        raise ValueError(f"{tenant_id!r} is not a valid tenant id (expected {TENANT_ID.pattern})")
    return f"tenant_{tenant_id}"


@dataclass(frozen=True)
class Tenant:
    id: str
    schema: str
    # Sessions bound to the tenant's view of the one engine, made once at start-up.
    sessions: sessionmaker[Session]


class TenantRegistry:
    def __init__(self, tenants: Iterable[Tenant]) -> None:
        self._tenants = {tenant.id: tenant for tenant in tenants}

    def get(self, tenant_id: str) -> Tenant | None:
        return self._tenants.get(tenant_id)

    def __iter__(self) -> Iterator[Tenant]:
        """Every tenant, for work done in each in turn: no lookup that could find none."""
        return iter(self._tenants.values())

    @property
    def ids(self) -> list[str]:
        return list(self._tenants)


def open_tenants(engine: Engine, tenant_ids: Iterable[str], migrate: bool = True) -> TenantRegistry:
    """Each tenant's session factory, once its schema is at the migrations' head.

    With `migrate`, bring each schema there (schema_migrations.py); without, refuse
    to start if one is not (a deployment that migrates as a release step).
    """
    tenants = []
    for tenant_id in tenant_ids:
        schema = schema_for(tenant_id)
        if migrate:
            migrate_schema(engine, schema)
        else:
            require_head(engine, schema)
        sessions = sessionmaker(tenant_engine(engine, schema), expire_on_commit=False)
        tenants.append(Tenant(tenant_id, schema, sessions))
    return TenantRegistry(tenants)

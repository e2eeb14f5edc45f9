"""Who is calling, and may they? Three dependencies, each able to stop the request.

    api_key_header      credentials: is there a key at all?        401
    get_principal       principal:   whose key is it, for this tenant?  401
    RequirePermission   permission:  may that principal do this?   403

Each one depends on the one before, so FastAPI runs them in that order and an
error in one means the later ones, and the route, never run.
"""

from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import APIKeyHeader

from .dependencies import TenantDep, get_principals
from .principals import Principal, PrincipalDirectory

# A missing header answers 401 "Not authenticated" (FastAPI before 0.122 said 403).
api_key_header = APIKeyHeader(name="X-API-Key", description="Demo keys: acme-admin-key, acme-viewer-key")


def get_principal(
    api_key: Annotated[str, Depends(api_key_header)],
    tenant: TenantDep,
    principals: Annotated[PrincipalDirectory, Depends(get_principals)],
) -> Principal:
    principal = principals.find(api_key)
    # One answer for an unknown key and another tenant's key: two answers would
    # tell an attacker which keys exist.
    if principal is None or principal.tenant_id != tenant.id:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "The API key is not valid for this tenant",
            headers={"WWW-Authenticate": "APIKey"},
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


class RequirePermission:
    """A dependency that lets the request through only if the principal holds `permission`."""

    def __init__(self, permission: str) -> None:
        self.permission = permission

    def __call__(self, principal: PrincipalDep) -> Principal:
        if self.permission not in principal.permissions:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"{principal.name} does not have the permission {self.permission!r}"
            )
        return principal

"""GET /analytics: the tenant's usage counters."""

from fastapi import APIRouter

from ..analytics import event_counts
from ..dependencies import RedisDep, TenantDep

router = APIRouter(tags=["analytics"])


@router.get("/analytics")
async def analytics(tenant: TenantDep, redis: RedisDep) -> dict[str, int]:
    """The tenant's usage counters, written by background tasks."""
    return await event_counts(redis, tenant.id)

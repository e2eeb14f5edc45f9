"""Best-effort usage counters per tenant, kept in Redis.

Losing one count now and then is acceptable, which is exactly what makes this
work a good fit for a fire-and-forget background task.
"""

from typing import cast

import structlog
from redis.asyncio import Redis

logger = structlog.get_logger()


def analytics_key(tenant_id: str) -> str:
    return f"analytics:{tenant_id}"


async def record_event(redis: Redis, tenant_id: str, event: str) -> None:
    """Count one `event` for the tenant. An `async def` task runs on the event loop
    after the response; that is fine here, as it only awaits a network call."""
    await redis.hincrby(analytics_key(tenant_id), event, 1)
    # DEBUG: one line per counted event would be noise; it carries the request's correlation id.
    logger.debug("analytics.counted", tenant=tenant_id, counted=event)


async def event_counts(redis: Redis, tenant_id: str) -> dict[str, int]:
    # The client decodes replies to str (decode_responses=True, redis_client.py);
    # redis-py's types cannot follow that setting, so they say bytes | str.
    counts = cast(dict[str, str], await redis.hgetall(analytics_key(tenant_id)))
    return {event: int(count) for event, count in sorted(counts.items())}

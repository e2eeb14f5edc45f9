"""A rate limit per tenant and client, counted in Redis so every worker process shares it."""

import structlog
from fastapi import HTTPException, Request, status
from redis.asyncio import Redis
from redis.exceptions import RedisError

from .dependencies import RedisDep, SettingsDep, TenantDep
from .settings import Settings

WINDOW_SECONDS = 60


def client_host(request: Request) -> str:
    # request.client is None when the server cannot tell who is calling (a Unix socket, say).
    return request.client.host if request.client else "unknown"


def refuse_over(limit: int, count: int, seconds_left: int) -> None:
    """A 429, with the seconds until the window ends, once the window's count is over `limit`."""
    if count > limit:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"Rate limit of {limit} requests per minute exceeded; try again in {seconds_left} seconds",
            headers={"Retry-After": str(seconds_left)},
        )


class RateLimiter:
    """At most `limit` requests per minute for each tenant and client (a fixed window).

    An instance is a dependency: FastAPI calls it with what `__call__` asks for.
    Routes add it with `dependencies=[Depends(limiter)]`, for its side effect
    (counting, and refusing with 429), not for a value.
    """

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit

    def limit_for(self, settings: Settings) -> int:
        """The limit given to the constructor, or else the configured one."""
        return self.limit if self.limit is not None else settings.rate_limit_per_minute

    def key_for(self, tenant_id: str, client_host: str) -> str:
        return f"rate-limit:{tenant_id}:{client_host}"

    async def __call__(self, request: Request, tenant: TenantDep, redis: RedisDep, settings: SettingsDep) -> None:
        limit = self.limit_for(settings)
        try:
            count, seconds_left = await self.hit(redis, self.key_for(tenant.id, client_host(request)))
        except RedisError as error:
            # Nowhere to count: let the request through, and say so. Refusing everyone
            # while Redis is away would turn a cache outage into a full one.
            structlog.get_logger().warning("rate_limit.redis_unavailable", error=repr(error))
            return
        refuse_over(limit, count, seconds_left)

    async def hit(self, redis: Redis, key: str) -> tuple[int, int]:
        """Count one request; returns the window's count so far and its seconds left.

        The three commands run as ONE transaction (MULTI/EXEC): no other client
        sees the key half made. The obvious INCR followed by a separate EXPIRE is
        wrong: a crash (or a lost connection) between the two leaves a counter
        with no expiry, and that client stays blocked for good. Here the key is
        created with its expiry (SET ... EX NX) before it is ever incremented.
        """
        async with redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)
            pipe.incr(key)
            pipe.ttl(key)
            _, count, seconds_left = await pipe.execute()
        return count, max(seconds_left, 1)


# The limiter the user routes share; its limit comes from the settings.
rate_limiter = RateLimiter()

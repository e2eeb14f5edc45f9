"""The application's Redis client: a real server when configured, otherwise fakeredis."""

from fakeredis import FakeAsyncRedis
from redis.asyncio import Redis


def create_redis(url: str | None) -> Redis:
    """Build the one client the app shares; it keeps its own pool of connections.

    Made in the lifespan and closed there. FakeAsyncRedis speaks the same API
    from memory, so the workbook runs with nothing installed; each instance is
    a fresh, empty server.
    """
    if url is None:
        return FakeAsyncRedis(decode_responses=True)
    return Redis.from_url(url, decode_responses=True)

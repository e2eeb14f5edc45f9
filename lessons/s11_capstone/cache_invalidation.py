"""Telling every process that a cached key changed: Redis pub/sub.

Each process keeps a local tier in its own memory (tiered_cache.py), which no
other process can reach. So a writer PUBLISHes the changed key on one channel,
every process listens to it, and each drops the key from its own local tier.
Without the broadcast, another process serves the old value until its local TTL
ends: with several workers, most readers see the old price after a change.

Pub/sub delivers to whoever is listening at that moment and keeps nothing: a
listener whose connection dropped misses what was sent meanwhile. redis-py
subscribes again when it reconnects, and Redis confirms each subscription with
a message; on that confirmation the listener forgets its whole local tier, since
it cannot know what it missed. The local TTL stays short for the same reason:
it bounds how long a missed message can matter.
"""

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Protocol

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

CHANNEL = "cache:invalidations"
# How long the listener waits before trying again after Redis failed it.
RETRY_SECONDS = 1.0

log = structlog.get_logger()


class LocalTier(Protocol):
    def forget_local(self, key: str) -> None: ...

    def forget_all_local(self) -> None: ...


async def publish_invalidation(redis: Redis, key: str) -> int:
    """Tell every listening process that `key` changed; answers how many heard it."""
    return await redis.publish(CHANNEL, key)


@asynccontextmanager
async def invalidation_listener(redis: Redis, caches: Sequence[LocalTier]) -> AsyncIterator[None]:
    """Listen for as long as the app runs. Subscribed before the app takes its first
    request, so no write made after start-up goes unheard."""
    pubsub = redis.pubsub()
    await _subscribe(pubsub)
    task = asyncio.create_task(_listen(pubsub, caches), name="cache-invalidation-listener")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        await pubsub.aclose()


async def _subscribe(pubsub: PubSub) -> None:
    try:
        await pubsub.subscribe(CHANNEL)
        # Take this first confirmation here, so that the listener reads only later ones: reconnections.
        await pubsub.get_message(timeout=RETRY_SECONDS)
    except RedisError as error:
        log.warning("cache.broadcast_unavailable", error=repr(error))


async def _listen(pubsub: PubSub, caches: Sequence[LocalTier]) -> None:
    while True:
        try:
            if not pubsub.subscribed:
                await pubsub.subscribe(CHANNEL)
            async for message in pubsub.listen():
                if message["type"] == "message":
                    for cache in caches:
                        cache.forget_local(message["data"])
                elif message["type"] == "subscribe":
                    # (Re)subscribed: whatever was published before this moment went unheard.
                    for cache in caches:
                        cache.forget_all_local()
        except RedisError as error:
            log.warning("cache.broadcast_unavailable", error=repr(error))
            await asyncio.sleep(RETRY_SECONDS)

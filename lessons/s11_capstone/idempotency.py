"""Idempotency keys: a request retried with the same key is answered once, and acts once.

A client that sent POST /payments and lost the answer (a timeout, a dropped
connection) cannot know whether the card was charged. It sends the request again
with the same Idempotency-Key header, and gets the first answer back instead of
a second charge. The record of each key lives in Redis, per tenant and user:

    SET key {"fingerprint"} NX EX pending   the first request claims the key, atomically
    SET key {"fingerprint", "result"} EX kept   ...and stores its answer when done

A retry that arrives while the first is still in flight is refused with 409 and
Retry-After, as the IETF draft on the Idempotency-Key header has it, rather than
waiting: a wait would hold a connection and a task per retry for as long as the
provider takes, and a client retrying in a loop would pile them up. The same key
with a different request is a client bug: 422.
"""

import hashlib
import json
from typing import Annotated, Any

from fastapi import Depends
from redis.asyncio import Redis

from .dependencies import RedisDep, SettingsDep


class RequestInFlight(Exception):
    """The first request with this key has not finished."""


class KeyReused(Exception):
    """The key was first used for a different request."""


def fingerprint(body: dict[str, Any]) -> str:
    """A digest of what was asked: a secret in the body is stored only as part of a hash."""
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


class IdempotencyStore:
    def __init__(self, redis: Redis, pending_seconds: int, result_seconds: int) -> None:
        self.redis = redis
        self.pending_seconds = pending_seconds
        self.result_seconds = result_seconds

    @staticmethod
    def key(tenant_id: str, user_id: int, idempotency_key: str) -> str:
        # Per user too: another user's key must never answer with someone else's payment.
        return f"idempotency:{tenant_id}:{user_id}:{idempotency_key}"

    async def claim(self, key: str, digest: str) -> dict[str, Any] | None:
        """None if this request may go ahead; the stored answer if the key was used before.

        Raises RequestInFlight or KeyReused when neither holds.
        """
        # One atomic command: of twenty concurrent retries, exactly one gets True.
        if await self.redis.set(key, json.dumps({"fingerprint": digest}), nx=True, ex=self.pending_seconds):
            return None
        stored = await self.redis.get(key)
        if stored is None:  # the first request gave up and released the key a moment ago
            raise RequestInFlight
        record = json.loads(stored)
        if record["fingerprint"] != digest:
            raise KeyReused
        if "result" not in record:
            raise RequestInFlight
        return record["result"]

    async def complete(self, key: str, digest: str, result: dict[str, Any]) -> None:
        record = {"fingerprint": digest, "result": result}
        await self.redis.set(key, json.dumps(record), ex=self.result_seconds)

    async def release(self, key: str) -> None:
        """Forget a claim whose request failed, so that a retry with the key may try again."""
        await self.redis.delete(key)


def get_idempotency_store(redis: RedisDep, settings: SettingsDep) -> IdempotencyStore:
    return IdempotencyStore(redis, settings.payment_pending_seconds, settings.payment_result_seconds)


IdempotencyStoreDep = Annotated[IdempotencyStore, Depends(get_idempotency_store)]

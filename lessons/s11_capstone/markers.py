"""Markers that make "send this email" happen once, even when the task runs twice.

A Celery task can be delivered more than once: with late acks a message is
acknowledged only after the task finishes, so a worker that dies mid-task (or a
broker that redelivers after its visibility timeout) runs it again. The marker
is a Redis key per email, moved through two states:

    claimed  SET key claimed NX EX <lease>   only one delivery can win this
    sent     SET key sent                    kept for good once the server took the mail

A claim that is never confirmed (the worker died between claiming and sending)
expires after the lease, so a redelivery can take over; a failed send releases
the claim at once, so the retry can claim it again.
"""

from redis import Redis

CLAIMED = "claimed"
SENT = "sent"


class RedisOnceMarkers:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def claim(self, key: str, lease_seconds: int) -> bool:
        """True for exactly one caller until the claim is released or expires."""
        # SET ... NX is one atomic command: two deliveries racing here cannot both win.
        return bool(self.redis.set(key, CLAIMED, nx=True, ex=lease_seconds))

    def confirm(self, key: str) -> None:
        self.redis.set(key, SENT)  # no expiry: a sent email stays sent

    def release(self, key: str) -> None:
        # Only the claim's holder calls this, right after its send failed, well
        # inside the lease, so the key still holds its own claim.
        self.redis.delete(key)

    def was_sent(self, key: str) -> bool:
        return self.state(key) == SENT

    def state(self, key: str) -> str | None:
        value = self.redis.get(key)
        return value.decode() if isinstance(value, bytes) else value

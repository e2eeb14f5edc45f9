"""What makes a signed, unexpired token stop working: kept in Redis, shared by every worker.

A JWT is valid until it expires; the signature alone cannot be taken back. Two
records in Redis can:

- The DENYLIST: logout puts the access token's jti on it, with an expiry equal
  to the token's remaining life. After that the token is expired anyway, so the
  entry would be dead weight: Redis drops it by itself.
- REFRESH FAMILIES (RFC 9700, section 4.14.2): every log-in starts a family, and
  Redis keeps the jti of the family's one CURRENT refresh token. A refresh must
  present exactly that token; it gets a new pair and the family moves on to the
  new jti (rotation). Presenting an older one means a refresh token was copied:
  the thief or the user used it first, and we cannot tell which, so the whole
  family is revoked and both must log in again (reuse detection). Access tokens
  check that their family still exists, so revoking it also stops the thief's
  access tokens at once.

Keys carry the tenant: `auth:acme:family:<id>`, `auth:acme:denied:<jti>`.
"""

from enum import StrEnum

from redis.asyncio import Redis
from redis.exceptions import WatchError


class Rotation(StrEnum):
    ROTATED = "rotated"  # the current token was presented: the family moved on
    REUSED = "reused"  # an old token of the family was presented: the family is now revoked
    REVOKED = "revoked"  # the family is gone (logout, reuse, expiry)


class TokenRevocation:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    @staticmethod
    def family_key(tenant: str, family: str) -> str:
        return f"auth:{tenant}:family:{family}"

    @staticmethod
    def denied_key(tenant: str, jti: str) -> str:
        return f"auth:{tenant}:denied:{jti}"

    async def start_family(self, tenant: str, family: str, refresh_jti: str, lifetime_seconds: int) -> None:
        await self.redis.set(self.family_key(tenant, family), refresh_jti, ex=lifetime_seconds)

    async def rotate(
        self, tenant: str, family: str, presented_jti: str, new_jti: str, lifetime_seconds: int
    ) -> Rotation:
        """Move the family from `presented_jti` to `new_jti`, atomically; or revoke it on reuse.

        Compare-and-set with WATCH: if another request changes the family between
        our GET and our EXEC, Redis refuses the EXEC and we read again. So two
        requests presenting the same refresh token at once cannot both rotate:
        the second sees the first's new jti and counts as a reuse.
        """
        key = self.family_key(tenant, family)
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    current = await pipe.get(key)
                    if current is None:
                        await pipe.unwatch()
                        return Rotation.REVOKED
                    pipe.multi()
                    if current == presented_jti:
                        pipe.set(key, new_jti, ex=lifetime_seconds)
                        outcome = Rotation.ROTATED
                    else:
                        pipe.delete(key)
                        outcome = Rotation.REUSED
                    await pipe.execute()
                    return outcome
                except WatchError:
                    continue  # the family changed under us: decide again on what it is now

    async def revoke_family(self, tenant: str, family: str) -> None:
        await self.redis.delete(self.family_key(tenant, family))

    async def deny(self, tenant: str, jti: str, seconds_left: int) -> None:
        # SET with EX in one command: the entry cannot exist without its expiry.
        if seconds_left > 0:
            await self.redis.set(self.denied_key(tenant, jti), 1, ex=seconds_left)

    async def is_active(self, tenant: str, jti: str, family: str) -> bool:
        """True unless the token is on the denylist or its family was revoked: one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.exists(self.denied_key(tenant, jti))
            pipe.exists(self.family_key(tenant, family))
            denied, family_alive = await pipe.execute()
        return not denied and bool(family_alive)

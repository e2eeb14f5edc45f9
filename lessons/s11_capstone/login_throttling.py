"""Per-account protection against password guessing, counted in Redis.

The budget per tenant and address (`limit_login_attempts` in auth_routes.py)
slows one address down. It cannot stop an attacker with many addresses (a
botnet, a cloud account) guessing at one account from all of them, and on its
own it would lock out every real user behind an attacked address (an office, a
carrier's NAT). So wrong passwords are also counted per ACCOUNT, twice:

1. Per account and client address: after `login_failures_per_client` wrong
   passwords from one address, that address may not try this account again
   until the window ends. The owner's own address has a budget of its own,
   which an attacker elsewhere cannot spend.
2. Per account, over every address: past `login_failures_before_backoff`
   wrong passwords, each further one makes the account wait longer before the
   next attempt is even checked (1, 2, 4, 8... seconds by default, up to a cap). From a
   hundred addresses an attacker gets a handful of guesses an hour, not a
   hundred a minute.

The second, on its own, would hand the attacker a way to lock the owner out:
guess badly on purpose, forever. So it does not apply to an address that has
logged in to this account before (remembered for `known_client_days`): the
owner at home or at work logs in during an attack as usual. Only an owner on a
new address waits like an attacker, never longer than the cap.

Accounts are keyed by a hash of the username as typed, whether or not such an
account exists: an unknown username is throttled exactly like a real one, so
neither the status nor the body of a 429 tells which accounts exist. (The hash
also keeps email addresses out of Redis.)
"""

import hashlib
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, status
from redis.asyncio import Redis

from .dependencies import RedisDep, SettingsDep
from .oauth_errors import OAuthError
from .settings import Settings


class TooManyAttempts(OAuthError):
    """429 slow_down, with the seconds to wait; the same answer as the per-address budget gives."""

    def __init__(self, seconds_left: int) -> None:
        seconds_left = max(seconds_left, 1)
        super().__init__(
            "slow_down",
            f"Too many log-in attempts; try again in {seconds_left} seconds",
            status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(seconds_left)},
        )


@dataclass(frozen=True)
class LoginAttempt:
    """One log-in attempt's keys in Redis."""

    account: str  # tenant and hashed username: the account, existing or not
    client: str  # the client's address

    @property
    def client_failures(self) -> str:
        return f"login-failures:{self.account}:{self.client}"

    @property
    def account_failures(self) -> str:
        return f"login-failures:{self.account}"

    @property
    def account_wait(self) -> str:
        # Exists while the account makes unknown addresses wait; its TTL is the wait.
        return f"login-wait:{self.account}"

    @property
    def known_clients(self) -> str:
        return f"login-known:{self.account}"


class LoginThrottle:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.failures_per_client = settings.login_failures_per_client
        self.failures_before_backoff = settings.login_failures_before_backoff
        self.window_seconds = settings.login_failure_window_minutes * 60
        self.first_backoff_seconds = settings.login_backoff_first_seconds
        self.max_backoff_seconds = settings.login_backoff_max_seconds
        self.known_client_seconds = settings.known_client_days * 86_400

    def attempt(self, tenant_id: str, username: str, client: str) -> LoginAttempt:
        # Case and surrounding spaces do not make another account to guess at.
        name = username.strip().lower().encode("utf-8", "surrogatepass")
        return LoginAttempt(f"{tenant_id}:{hashlib.sha256(name).hexdigest()[:32]}", client)

    async def begin(self, attempt: LoginAttempt) -> None:
        """Raise TooManyAttempts unless this attempt may have its password checked now."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.ttl(attempt.account_wait)
            pipe.sismember(attempt.known_clients, attempt.client)
            wait, known = await pipe.execute()
        if wait > 0 and not known:
            raise TooManyAttempts(wait)
        # Counted BEFORE the password is checked, and uncounted only when it was
        # right: otherwise a burst of parallel guesses would all pass this line
        # before the first of them had been recorded as wrong.
        tries, seconds_left = await self._count(attempt.client_failures)
        if tries > self.failures_per_client:
            raise TooManyAttempts(seconds_left)

    async def failed(self, attempt: LoginAttempt) -> None:
        """A wrong password: past the free failures, the account makes unknown addresses wait, longer each time."""
        failures, _ = await self._count(attempt.account_failures)
        beyond = failures - self.failures_before_backoff
        if beyond > 0:
            # The first wait, then twice as long for each further failure, up to the cap.
            # (The exponent is capped first, so the number never grows huge.)
            wait = min(self.first_backoff_seconds * 2 ** min(beyond - 1, 30), self.max_backoff_seconds)
            await self.redis.set(attempt.account_wait, 1, ex=wait)

    async def succeeded(self, attempt: LoginAttempt) -> None:
        """The right password: this address's budget is whole again, and the address is known from now on.

        The account's failures stay counted: an owner logging in does not reset
        the backoff an attacker elsewhere has earned.
        """
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(attempt.client_failures)
            pipe.sadd(attempt.known_clients, attempt.client)
            pipe.expire(attempt.known_clients, self.known_client_seconds)
            await pipe.execute()

    async def _count(self, key: str) -> tuple[int, int]:
        """Add one to a counter that lives for the window; its count and seconds left.

        As in the rate limiter (rate_limiting.py): one MULTI/EXEC, and the key is
        created with its expiry before it is incremented, so it always expires.
        """
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=self.window_seconds, nx=True)
            pipe.incr(key)
            pipe.ttl(key)
            _, count, seconds_left = await pipe.execute()
        return count, seconds_left


def get_login_throttle(redis: RedisDep, settings: SettingsDep) -> LoginThrottle:
    return LoginThrottle(redis, settings)


LoginThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]

"""Readiness: can this process serve requests now? Each dependency checked at once, each within its own deadline.

A load balancer (or Kubernetes' readinessProbe) asks GET /health/ready every few
seconds and sends requests only to the processes that answer 200. Three things a
request may need are checked: the database (`SELECT 1`), Redis (PING) and the
Celery broker (a connection to it). They run concurrently, so the probe takes as
long as the slowest check, and each has a deadline of its own (health_settings.py), so a
dependency that hangs is named as failed instead of hanging the probe.

A deadline on the event loop only stops the waiting. An `await` that is cancelled
really stops: Redis's PING is one (redis-py drops the connection it was using).
A blocking call cannot be cancelled at all: SQLAlchemy's sync engine and kombu
block a thread, and Python cannot stop a thread from outside. So each blocking
check runs in a daemon thread of its own, which the deadline abandons; the thread
ends when its driver gives up (psycopg, by default, only when TCP does: minutes).
Two rules keep an abandoned thread cheap. A check whose previous run has not
returned is not started again, so a hung database costs one thread and one pooled
connection, not one more every probe. And the thread is a daemon, so a process
shutting down does not wait for it (anyio's worker threads, which `def` routes
use, would hold the exit up until the driver gave up).

A failure says why in words, or the error's type: never the error's message,
which may carry a host, a user or a URL with its password. The log has the message.
"""

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from functools import partial
from typing import Literal

import structlog
from kombu import Connection
from pydantic import BaseModel, Field
from redis.asyncio import Redis
from sqlalchemy import Engine, select

from .pool_watch import PoolWatch
from .settings import Settings

log = structlog.get_logger()

# Celery's own default when no broker is configured (worker.py): kombu's in-process transport.
MEMORY_BROKER = "memory://localhost/"

Check = Callable[[], Awaitable[object]]


class CheckResult(BaseModel):
    status: Literal["ok", "failed"]
    latency_ms: float = Field(description="How long the check took; for a failed one, how long it was waited for")
    reason: str | None = Field(default=None, description="Why it failed, in words: never an address or a password")


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    failed: list[str] = Field(description="The checks that failed, by name: empty when ready")
    checks: dict[str, CheckResult] = Field(description="Each check by name: database, redis, broker")
    spare_connections: int = Field(description="Connections the pool can still lend (read from its figures, free)")


class CheckFailed(Exception):
    """A failure this module describes itself: its message is safe to show."""


class InThread:
    """A blocking call run in a daemon thread of its own, never two at once; awaiting it may be abandoned."""

    def __init__(self, name: str, call: Callable[[], object]) -> None:
        self.name = name
        self.call = call
        self.running: Future[object] | None = None

    async def __call__(self) -> object:
        if self.running is not None and not self.running.done():
            raise CheckFailed("the previous check has not returned yet")
        future: Future[object] = Future()
        self.running = future
        threading.Thread(target=self._run, args=(future,), name=f"ready-{self.name}", daemon=True).start()
        # Cancelled here (the deadline), the wait ends; the thread runs on until its call returns.
        return await asyncio.wrap_future(future)

    def _run(self, future: Future[object]) -> None:
        if not future.set_running_or_notify_cancel():
            return  # abandoned before it started: nothing to do
        try:
            future.set_result(self.call())
        except Exception as error:
            future.set_exception(error)


def select_one(engine: Engine) -> None:
    """A connection from the app's pool, and one round trip on it: what a request would need."""
    with engine.connect() as connection:
        connection.execute(select(1))


def connect_to_broker(url: str, timeout: float) -> None:
    """A new connection to the broker. No retry (kombu's default tries once more, two seconds later)."""
    with Connection(url, connect_timeout=timeout) as connection:
        connection.ensure_connection(max_retries=0)


async def run_check(name: str, check: Check, seconds: float) -> CheckResult:
    """Run `check` within `seconds`; whatever happens, answer how it went and how long it took."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(seconds) as deadline:
            await check()
    except Exception as error:
        if deadline.expired():
            reason = f"no answer within {seconds} s"
        elif isinstance(error, CheckFailed):
            reason = str(error)
        else:
            reason = f"failed: {type(error).__name__}"
        log.warning("readiness.check_failed", check=name, reason=reason, error=repr(error))
        return CheckResult(status="failed", latency_ms=_ms_since(started), reason=reason)
    return CheckResult(status="ok", latency_ms=_ms_since(started))


def _ms_since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


class ReadinessChecks:
    """The app's readiness checks, made once at start-up: each blocking one remembers whether it still runs."""

    def __init__(self, pool: PoolWatch, redis: Redis, settings: Settings) -> None:
        self.pool = pool
        self._select_one = InThread("database", partial(select_one, pool.engine))
        broker = settings.broker_url or MEMORY_BROKER
        # The connect timeout makes an abandoned thread give up soon after the probe has.
        broker_timeout = settings.ready_broker_timeout_seconds
        self.checks: dict[str, tuple[Check, float]] = {
            "database": (self._database, settings.ready_database_timeout_seconds),
            "redis": (redis.ping, settings.ready_redis_timeout_seconds),
            "broker": (InThread("broker", partial(connect_to_broker, broker, broker_timeout)), broker_timeout),
        }

    def spare_connections(self) -> int:
        health = self.pool.health()
        return health.size + health.max_overflow - health.checked_out

    async def _database(self) -> object:
        # An exhausted pool would make the check wait pool_timeout for a connection:
        # its figures say so at once. A process with none to lend is not ready either.
        if self.spare_connections() <= 0:
            raise CheckFailed("no free connection in the pool")
        return await self._select_one()

    async def run(self) -> Readiness:
        names = list(self.checks)
        results = await asyncio.gather(*(run_check(name, *self.checks[name]) for name in names))
        checks = dict(zip(names, results, strict=True))
        failed = [name for name, result in checks.items() if result.status == "failed"]
        return Readiness(
            status="not ready" if failed else "ready",
            failed=failed,
            checks=checks,
            spare_connections=max(0, self.spare_connections()),
        )

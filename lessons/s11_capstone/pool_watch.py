"""The connection pool, watched: SQLAlchemy's pool events feed the figures of /health/pool and /metrics.

Four events are enough: `connect` (a new connection to the server), `checkout`
(a session takes one from the pool), `checkin` (it gives it back) and
`invalidate` (one found broken and thrown away). Each checkout is stamped with
the time and with the request that took it (request_labels.py), so the longest
current checkout, and who holds it, can be read at any moment.

Pool events are synchronous: they belong to the sync `Engine`. An AsyncEngine
refuses them (`event.listen(async_engine, "checkout", ...)` raises
NotImplementedError); listen on its `sync_engine`, which `PoolWatch` does.

No event says "a checkout started waiting", so `WaitCountingPool` counts the
checkouts in progress: waiting for a free connection, or for a new one to open.
The in-memory SQLite default has one shared connection (StaticPool), which
never makes anyone wait: it reports a pool of one, and no waiting.
"""

import threading
import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, QueuePool

from .request_labels import current_request


class WaitCountingPool(QueuePool):
    """SQLAlchemy's QueuePool, counting the checkouts under way."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waiting = 0
        self._waiting_lock = threading.Lock()

    def _do_get(self) -> ConnectionPoolEntry:
        with self._waiting_lock:
            self.waiting += 1
        try:
            return super()._do_get()  # blocks up to pool_timeout when every connection is out
        finally:
            with self._waiting_lock:
                self.waiting -= 1


class PoolHealth(BaseModel):
    size: int  # connections the pool keeps open
    max_overflow: int  # how many more it may open when all of those are out
    checked_out: int  # held by sessions right now
    overflow: int  # open beyond `size` right now
    waiting: int  # checkouts under way (waiting for a connection)
    checkouts_total: int
    connects_total: int
    invalidations_total: int
    longest_checkout_seconds: float  # the connection held longest, of those out now
    longest_checkout_holder: str | None  # the request holding it ("GET /products"), None outside a request


@dataclass
class Checkout:
    started: float
    holder: str | None


class PoolWatch:
    def __init__(self, engine: Engine | AsyncEngine, size: int, max_overflow: int) -> None:
        # The pitfall: pool events on an AsyncEngine raise. Its sync_engine has the same pool.
        self.engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
        pooled = isinstance(self.engine.pool, QueuePool)
        self.size, self.max_overflow = (size, max_overflow) if pooled else (1, 0)
        self.checkouts_total = self.checkins_total = self.connects_total = self.invalidations_total = 0
        self._out: dict[int, Checkout] = {}  # by id of the pool's record of the connection
        self._lock = threading.Lock()  # events fire in whichever thread holds the session
        event.listen(self.engine, "connect", self._connected)
        event.listen(self.engine, "checkout", self._checked_out)
        event.listen(self.engine, "checkin", self._checked_in)
        event.listen(self.engine, "invalidate", self._invalidated)

    def _connected(self, dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        with self._lock:
            self.connects_total += 1

    def _checked_out(self, dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection) -> None:
        with self._lock:
            self.checkouts_total += 1
            self._out[id(record)] = Checkout(time.monotonic(), current_request.get())

    def _checked_in(self, dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        with self._lock:
            self.checkins_total += 1
            self._out.pop(id(record), None)

    def _invalidated(self, dbapi_connection: Any, record: ConnectionPoolEntry, exception: BaseException | None) -> None:
        with self._lock:
            self.invalidations_total += 1

    def health(self) -> PoolHealth:
        pool = self.engine.pool
        now = time.monotonic()
        with self._lock:
            longest = min(self._out.values(), key=lambda checkout: checkout.started, default=None)
            checked_out = self.checkouts_total - self.checkins_total
            counts = (self.checkouts_total, self.connects_total, self.invalidations_total)
        return PoolHealth(
            size=self.size,
            max_overflow=self.max_overflow,
            checked_out=checked_out,
            # QueuePool counts overflow from -size: negative while fewer than `size` are open.
            overflow=max(0, pool.overflow()) if isinstance(pool, QueuePool) else 0,
            waiting=getattr(pool, "waiting", 0),
            checkouts_total=counts[0],
            connects_total=counts[1],
            invalidations_total=counts[2],
            longest_checkout_seconds=round(now - longest.started, 3) if longest else 0.0,
            longest_checkout_holder=longest.holder if longest else None,
        )

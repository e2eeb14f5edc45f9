"""Demo: three ways a Redis lock around a request goes wrong. Not served by the app.

The notebook and the tests run each one for real; product_locks.py and stock.py
are what the app does instead.

1. `Depends(lambda: product_lock(...))`: FastAPI calls the lambda and gets a
   context manager object, which it never enters. No lock is taken. (The usual
   snippet's lambda also names the route's `product_id`, which is not in its
   scope: a NameError on the first request.)
2. A redis-py (sync) Lock in a sync yield dependency: FastAPI runs the code
   before `yield` in one thread of its pool and the code after it in whichever
   thread is free then. The lock keeps its token in a thread-local by default,
   so the other thread has none: release() fails (AttributeError in redis-py 8)
   and the lock stays in Redis until its TTL runs out.
3. A lock whose TTL runs out while its holder still works, around a read of the
   stock followed by a write: a second holder reads the same stock, and both sell it.
"""

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import LockError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import Product


def lock_key(product_id: int) -> str:
    return f"lock:product:demo:{product_id}"


@asynccontextmanager
async def product_lock(redis: Redis, product_id: int) -> AsyncIterator[None]:
    async with redis.lock(lock_key(product_id), timeout=5, blocking_timeout=5):
        yield


class Occupancy:
    """How many requests are inside the "locked" part at once, at most."""

    def __init__(self) -> None:
        self.now = self.most = 0

    async def stay(self, seconds: float) -> None:
        self.now += 1
        self.most = max(self.most, self.now)
        await asyncio.sleep(seconds)
        self.now -= 1


def lambda_lock_app(redis: Redis, occupancy: Occupancy, seconds: float = 0.2) -> FastAPI:
    """Pitfall 1 beside its fix: /lambda takes no lock at all, /yield holds it for the request."""
    app = FastAPI()

    async def held(product_id: int) -> AsyncIterator[None]:  # the fix: a yield dependency that enters it
        async with product_lock(redis, product_id):
            yield

    # The usual snippet has `product_lock(redis, product_id)` here: a NameError, as the notebook shows.
    @app.post("/lambda/{product_id}", dependencies=[Depends(lambda: product_lock(redis, 1))])
    async def with_lambda(product_id: int) -> dict[str, Any]:
        await occupancy.stay(seconds)
        return {"locked": await redis.exists(lock_key(product_id)) == 1}

    @app.post("/yield/{product_id}", dependencies=[Depends(held)])
    async def with_yield(product_id: int) -> dict[str, Any]:
        await occupancy.stay(seconds)
        return {"locked": await redis.exists(lock_key(product_id)) == 1}

    return app


def sync_lock_app(redis: SyncRedis, outcome: list[str], go: asyncio.Event, thread_local: bool) -> FastAPI:
    """Pitfall 2: a sync Lock taken before `yield` and released after it. `outcome` records each release."""
    app = FastAPI()

    def held() -> Iterator[None]:
        lock = redis.lock(lock_key(1), timeout=30, thread_local=thread_local)
        lock.acquire()
        outcome.append(f"acquired in {threading.get_ident()}")
        yield
        try:
            lock.release()
            outcome.append(f"released in {threading.get_ident()}")
        # redis-py 8 fails with AttributeError (the thread-local has no token at all), older ones with LockError.
        except (LockError, AttributeError) as error:
            outcome.append(f"{type(error).__name__} in {threading.get_ident()}: {error}")

    @app.post("/hold", dependencies=[Depends(held)])
    async def hold() -> None:
        await go.wait()

    @app.post("/busy")
    def busy() -> None:
        # A sync route: it takes the pool's most recently idle thread, the one that took the lock.
        threading.Event().wait(0.5)

    return app


def sell_by_reading(session: Session, sku: str, pause: float) -> bool:
    """Pitfall 3's critical section: read the stock, work a while, write it less one."""
    stock = session.scalar(select(Product.stock).where(Product.sku == sku))
    threading.Event().wait(pause)  # the slow part: the lock may expire meanwhile
    if not stock:
        return False
    session.execute(update(Product).where(Product.sku == sku).values(stock=stock - 1))
    session.commit()
    return True

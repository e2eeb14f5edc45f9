"""The lab: routes that show what blocks the event loop, and each fix.

They are not part of the shop; they exist to be measured (the notebook and
`make bench LESSON=05` fire concurrent requests at them over real HTTP). The two
that stall the whole server, /lab/io/blocking and /lab/cpu/inline, answer 404
unless the setting lab_blocking_routes turns them on, and every wait or count
they take is bounded.

Uvicorn serves every request of a worker process from one event loop. An
`async def` route runs ON that loop: until it reaches an `await`, no other
request of the process moves, not even /health. A `def` route runs in a worker
thread from anyio's pool (at most `thread_limit` at a time), so it may block.
"""

import asyncio
import threading
from typing import Annotated
from urllib.error import URLError
from urllib.parse import urlencode
from urllib.request import urlopen

from anyio import to_thread
from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from .cpu_work import prime_count
from .dependencies import AsyncSessionDep, ProcessPoolDep, SessionDep, SettingsDep
from .slow_query import SLOW_QUERY, run_slow_query

router = APIRouter(prefix="/lab", tags=["lab"])

# Bounds that keep even the blocking routes' harm short: a second or two at most.
Seconds = Annotated[float, Query(gt=0, le=2, description="how long the slow work waits")]
Limit = Annotated[int, Query(ge=2, le=300_000, description="count the primes below this number")]


class Waited(BaseModel):
    seconds: float
    # The thread the route's code ran on: the event loop's own, or one of the pool's
    # ("AnyIO worker thread").
    thread: str


class Primes(BaseModel):
    limit: int
    primes: int
    pid: int  # the process that counted them


class ThreadPool(BaseModel):
    limit: int
    in_use: int


def blocking_routes_on(settings: SettingsDep) -> None:
    """Let a route that stalls every request of the server run only where the settings allow it."""
    if not settings.lab_blocking_routes:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            "This lab route blocks the event loop on purpose; set WORKBOOK_LAB_BLOCKING_ROUTES=true to turn it on",
        )


# The dependency a route that blocks the event loop carries.
BLOCKS_THE_SERVER = [Depends(blocking_routes_on)]


def waited(seconds: float) -> Waited:
    return Waited(seconds=seconds, thread=threading.current_thread().name)


def slow_query_here(session: Session, seconds: float) -> Waited:
    run_slow_query(session, seconds)
    return waited(seconds)


# --- Blocking I/O: the same slow query, the wrong way and three right ones -----------------------


@router.get("/io/blocking", dependencies=BLOCKS_THE_SERVER)
async def io_blocking(session: SessionDep, seconds: Seconds = 0.2) -> Waited:
    """The pitfall: a blocking call inside `async def`. The event loop waits with it."""
    return slow_query_here(session, seconds)


@router.get("/io/def")
def io_def(session: SessionDep, seconds: Seconds = 0.2) -> Waited:
    """Fix 1: a plain `def` route. FastAPI runs it in the thread pool."""
    return slow_query_here(session, seconds)


@router.get("/io/threadpool")
async def io_threadpool(session: SessionDep, seconds: Seconds = 0.2) -> Waited:
    """Fix 2: stay `async def` (to await other things too) and hand the blocking call to the thread pool."""
    return await run_in_threadpool(slow_query_here, session, seconds)


@router.get("/io/async-driver")
async def io_async_driver(session: AsyncSessionDep, seconds: Seconds = 0.2) -> Waited:
    """Fix 3: an async driver. `await` gives the loop back while the database works."""
    await session.execute(SLOW_QUERY, {"seconds": seconds})
    return waited(seconds)


# --- The thread pool's limit ---------------------------------------------------------------------


@router.get("/slow-service")
async def slow_service(seconds: Seconds = 0.2) -> Waited:
    """A slow upstream service, such as a payment provider. It waits without holding a thread."""
    await asyncio.sleep(seconds)
    return waited(seconds)


@router.get("/threads/blocking-call")
def threads_blocking_call(settings: SettingsDep, seconds: Seconds = 0.2) -> Waited:
    """A `def` route that calls the slow service with a blocking HTTP client.

    Its worker thread is held until the answer comes, so at most `thread_limit`
    of these run at once; the others wait for a free thread. It calls over real
    HTTP, so it needs the app served by uvicorn (TestClient is not a server).
    The address comes from the settings: built from the request's Host header,
    any caller could make the server call an address of their choosing.
    """
    url = f"{settings.lab_slow_service_url}?{urlencode({'seconds': seconds})}"
    try:
        # urlopen, the standard library's HTTP client, blocks its thread until the
        # answer comes, as any sync SDK (payments, storage, mail) does.
        with urlopen(url, timeout=seconds + 10) as answer:
            answer.read()
    except (URLError, TimeoutError) as error:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"the slow service at {url} failed: {error}") from error
    return waited(seconds)


@router.get("/threads")
async def thread_pool() -> ThreadPool:
    """The thread pool's limit, as the lifespan set it, and how many threads are lent out now.

    `async def` on purpose: it runs on the event loop, whose pool it reports, and
    takes no thread itself.
    """
    limiter = to_thread.current_default_thread_limiter()
    return ThreadPool(limit=int(limiter.total_tokens), in_use=limiter.borrowed_tokens)


# --- CPU-bound work ------------------------------------------------------------------------------


@router.get("/cpu/inline", dependencies=BLOCKS_THE_SERVER)
async def cpu_inline(limit: Limit = 300_000) -> Primes:
    """The pitfall: CPU-bound work inside `async def`. Nothing else runs until it is done."""
    return Primes(**prime_count(limit))


@router.get("/cpu/process-pool")
async def cpu_process_pool(pool: ProcessPoolDep, limit: Limit = 300_000) -> Primes:
    """The fix: count in the process pool. The loop awaits the result and goes on serving meanwhile."""
    loop = asyncio.get_running_loop()
    return Primes(**await loop.run_in_executor(pool, prime_count, limit))

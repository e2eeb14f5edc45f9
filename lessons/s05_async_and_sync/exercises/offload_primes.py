"""Exercise 05/offload_primes: several CPU-bound jobs, in the process pool, at once.

`GET /lab/primes?limit=100&limit=1000` counts the primes below each limit and
answers one result per limit, in the order asked:

    [{"limit": 100, "primes": 25, "pid": 4242}, {"limit": 1000, "primes": 168, "pid": 4243}]

Counting is CPU-bound (cpu_work.prime_count), so it must not run on the event
loop: submit each limit to the app's process pool (ProcessPoolDep) and await the
results together, so that the pool's workers count in parallel. `pid` is the
process that did the counting: never the server's own.
"""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from ..cpu_work import prime_count
from ..dependencies import ProcessPoolDep
from ..lab import Primes

router = APIRouter(tags=["exercises"])

# The same bound as the lab's own prime counting: a count any caller may ask for must
# stay short, or a few requests keep the process pool busy for everyone.
OneLimit = Annotated[int, Field(ge=2, le=300_000)]


@router.get("/lab/primes")
async def offload_primes(
    pool: ProcessPoolDep, limit: Annotated[list[OneLimit], Query(min_length=1, max_length=8)]
) -> list[Primes]:
    raise NotImplementedError("exercise 05/offload_primes: write this part")

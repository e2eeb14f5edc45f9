"""Which version of each user's tokens holds, remembered by this process for a few seconds.

A token carries the version its user had at log-in (`ver`); a password or role change
moves the user to the next version, and every older token stops working. Checking
that asks the database. The routes that act for a user ask it on every request
(`get_current_user`). GET /products/{sku}, which anyone may call, asks through this
memory instead: a user's version is read from the database at most once every
MAX_AGE_SECONDS per process, and a hit costs no worker thread and no database connection.

The bound is honest and cheap: for at most MAX_AGE_SECONDS after a password or role
change, an old token may still read a product, which an anonymous caller may do
anyway. A logout is not delayed at all: the denylist is asked in Redis on every request.
"""

import time

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from .models import User
from .tenancy import Tenant

MAX_AGE_SECONDS = 5.0
# Bounded: a crowd of distinct users cannot grow it without end; the oldest entry goes first.
MAX_ENTRIES = 10_000


def load_version(tenant: Tenant, user_id: int) -> int | None:
    """The user's current token version, or None if there is no such user."""
    with tenant.sessions() as db:
        return db.scalar(select(User.token_version).where(User.id == user_id))


class TokenVersions:
    def __init__(self, max_age: float = MAX_AGE_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self.max_age = max_age
        self.max_entries = max_entries
        self._read: dict[tuple[str, int], tuple[int | None, float]] = {}

    async def current(self, tenant: Tenant, user_id: int) -> int | None:
        """The version as the database gave it at most `max_age` seconds ago (None: no such user)."""
        key = (tenant.id, user_id)
        now = time.monotonic()
        remembered = self._read.get(key)
        if remembered is not None and now - remembered[1] < self.max_age:
            return remembered[0]
        version = await run_in_threadpool(load_version, tenant, user_id)
        self._read.pop(key, None)  # re-inserted last: the oldest entries stay first
        self._read[key] = (version, now)
        if len(self._read) > self.max_entries:
            del self._read[next(iter(self._read))]
        return version

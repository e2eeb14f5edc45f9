"""How big each process's pool may be, and the check that every process's pool fits the server.

Every worker process (uvicorn --workers N) has its own engine, and so its own
pool. At its busiest a pool holds `pool_size` connections plus `max_overflow`
opened for the rush, so the app as a whole may hold

    workers x (pool_size + max_overflow)

connections at once. PostgreSQL accepts `max_connections`, minus the ones it
keeps for superusers (`superuser_reserved_connections`) and, from version 16,
for roles granted pg_use_reserved_connections (`reserved_connections`). Past
that it refuses new connections with "too many clients": under load, the very
moment they are needed. So start-up refuses such a configuration instead, and
says which settings to change. The Celery worker counts too: its main process and
each of its `worker_concurrency` pool processes run one task at a time, each
task one session at a time, so each keeps a pool of one connection (a total of
`worker_concurrency + 1`). Leave room for whatever else connects (a migration,
psql, a second deployment): this check counts this app and its worker only.

The classic slip is to forget max_overflow: 8 workers with pool_size 5 and
max_overflow 10 can hold 120 connections, not 40.

SQLite has no server and no connection limit: nothing to check. The in-memory
default is one connection that every session shares (database.py), so the pool
settings do not apply to it; a file database gets a real pool, sized by them.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, column, select, table

from .settings import Settings


class PoolTooLarge(RuntimeError):
    pass


@dataclass(frozen=True)
class ServerLimits:
    max_connections: int
    superuser_reserved: int
    reserved: int = 0  # PostgreSQL 16 and later

    @property
    def usable(self) -> int:
        """What an ordinary role like the app's may open."""
        return self.max_connections - self.superuser_reserved - self.reserved


# A Celery worker process runs one task at a time, and a task holds one session at a time.
WORKER_PROCESS_CONNECTIONS = 1


def connections_needed(workers: int, pool_size: int, max_overflow: int, worker_processes: int = 0) -> int:
    """The most connections the app can hold at once: every API pool full, overflow included,
    and each of `worker_processes` Celery worker processes with its one connection."""
    return workers * (pool_size + max_overflow) + worker_processes * WORKER_PROCESS_CONNECTIONS


def check_pool_fits(
    workers: int, pool_size: int, max_overflow: int, limits: ServerLimits, worker_processes: int = 0
) -> int:
    """Raise PoolTooLarge, naming the numbers and the settings, if the app and its worker could
    hold more than the server allows.

    Answers the connections left over for everything else.
    """
    api = connections_needed(workers, pool_size, max_overflow)
    needed = connections_needed(workers, pool_size, max_overflow, worker_processes)
    if needed > limits.usable:
        worker = (
            f" + {worker_processes} Celery worker processes x {WORKER_PROCESS_CONNECTIONS} = {needed}"
            if worker_processes
            else ""
        )
        raise PoolTooLarge(
            f"{workers} workers x (pool_size {pool_size} + max_overflow {max_overflow}) = {api} connections{worker},"
            f" but the server accepts {limits.usable} (max_connections {limits.max_connections}"
            f" - superuser_reserved_connections {limits.superuser_reserved}"
            f" - reserved_connections {limits.reserved}): lower WORKBOOK_WORKERS, WORKBOOK_POOL_SIZE,"
            " WORKBOOK_MAX_OVERFLOW or WORKBOOK_WORKER_CONCURRENCY, or raise max_connections"
        )
    return limits.usable - needed


# pg_settings lists every server setting; a name this server does not have
# (reserved_connections before version 16) is simply absent from the answer.
PG_SETTINGS = table("pg_settings", column("name"), column("setting"))
LIMIT_NAMES = ("max_connections", "superuser_reserved_connections", "reserved_connections")


def server_limits(connection: Connection) -> ServerLimits:
    """Read PostgreSQL's connection limits."""
    rows = connection.execute(
        select(PG_SETTINGS.c.name, PG_SETTINGS.c.setting).where(PG_SETTINGS.c.name.in_(LIMIT_NAMES))
    )
    found = {name: int(setting) for name, setting in rows}
    return ServerLimits(
        max_connections=found["max_connections"],
        superuser_reserved=found["superuser_reserved_connections"],
        reserved=found.get("reserved_connections", 0),
    )


def refuse_oversized_pool(engine: Engine, settings: Settings) -> None:
    """At start-up: on PostgreSQL, refuse a total for the API processes and the worker that the
    server cannot accept."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        limits = server_limits(connection)
    worker_processes = settings.worker_concurrency + 1  # its pool processes, and its main process
    check_pool_fits(settings.workers, settings.pool_size, settings.max_overflow, limits, worker_processes)


def pool_options(settings: Settings) -> dict[str, Any]:
    """The pool's keyword arguments for create_engine, from the settings."""
    return {
        "pool_size": settings.pool_size,
        "max_overflow": settings.max_overflow,
        "pool_timeout": settings.pool_timeout,
        "pool_recycle": settings.pool_recycle,
        "pool_pre_ping": settings.pool_pre_ping,
    }


def worker_pool_options(settings: Settings) -> dict[str, Any]:
    """A Celery worker process's pool: the one connection its one task at a time needs."""
    return {**pool_options(settings), "pool_size": WORKER_PROCESS_CONNECTIONS, "max_overflow": 0}

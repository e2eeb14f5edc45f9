"""A query that takes as long as we ask: the blocking I/O of this stage's measurements.

PostgreSQL has `pg_sleep(seconds)`: the server waits, and the client waits for
its answer, exactly as it waits for a slow report query or a lock. SQLite has no
such function, so `install_pg_sleep` gives every new SQLite connection one, a
Python function that sleeps: it stands in for a query that waits on the disk.
Either way the same SQL runs, through whichever driver the session uses: a
blocking one (sqlite3, psycopg in sync mode) or an async one.
"""

import time

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

# text(): SQLAlchemy 2 refuses a bare SQL string (see the pitfalls).
SLOW_QUERY = text("SELECT pg_sleep(:seconds)")


def install_pg_sleep(engine: Engine) -> None:
    """On SQLite, register pg_sleep on each new connection (for an AsyncEngine, pass its sync_engine)."""
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL has the real one

    @event.listens_for(engine, "connect")
    def add_pg_sleep(dbapi_connection, connection_record) -> None:
        dbapi_connection.create_function("pg_sleep", 1, time.sleep)


def run_slow_query(session: Session, seconds: float) -> None:
    """Blocking: the calling thread waits until the database answers."""
    session.execute(SLOW_QUERY, {"seconds": seconds})

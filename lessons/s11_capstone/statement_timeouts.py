"""Statement timeouts: a runaway query is cancelled by PostgreSQL, not left to hold a connection.

Each transaction a request's session begins first runs

    SELECT set_config('statement_timeout', '5000', true)

which is `SET LOCAL statement_timeout = 5000`, with the value as a bound
parameter. LOCAL is the point: the setting ends with the transaction. A plain
`SET statement_timeout` lasts as long as the CONNECTION, and a pooled connection
outlives the request: once committed, the next request to check it out inherits
the setting (the pool's reset on return is a ROLLBACK, which does not undo a
committed SET). The services tests show that leak.

The limit is added after start-up's work, on purpose: a process waiting on the
start-up lock (database.py) waits for the others' work, not for a runaway query.
The price is one more round trip per transaction; setting it once per connection
(connect_args={"options": "-c statement_timeout=5000"}) saves it, for every
statement the app will ever run on that connection, start-up's included.

SQLite has no statement timeout: nothing cancels a slow query there, and the
setting has no effect (sqlite3's progress handler could abort one; this app
does not use it).
"""

from sqlalchemy import Connection, event, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, SessionTransaction

from .tenancy import TenantRegistry

# PostgreSQL's SQLSTATE for "canceling statement due to statement timeout" (query_canceled).
QUERY_CANCELED = "57014"


def limit_statements(tenants: TenantRegistry, milliseconds: int) -> None:
    """From now on, each transaction of every tenant's sessions limits its statements to `milliseconds`."""
    if milliseconds == 0:
        return

    def set_local_timeout(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.set_config("statement_timeout", str(milliseconds), True)))

    for tenant in tenants:
        # On each tenant's session factory: sessions made any other way are not limited.
        event.listen(tenant.sessions, "after_begin", set_local_timeout)


def is_statement_timeout(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) == QUERY_CANCELED

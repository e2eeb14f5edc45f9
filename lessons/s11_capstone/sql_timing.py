"""How long each SQL statement took, as a DEBUG log line of the request (or task) that ran it.

SQLAlchemy's cursor events run in the thread that executes the statement: for a
`def` route, one of anyio's threads, in a copy of the request's context, so each
line carries the request's correlation id. At DEBUG because a request runs several
statements: `WORKBOOK_LOG_LEVEL=DEBUG` shows them, the default INFO does not.
Only the statement's kind is logged (SELECT, INSERT...), never its parameters,
which hold emails and password hashes.
"""

import time

import structlog
from sqlalchemy import Engine, event

logger = structlog.get_logger()


def time_statements(engine: Engine) -> None:
    """Log each statement `engine` runs: its kind and how long it took, in milliseconds."""

    @event.listens_for(engine, "before_cursor_execute")
    def start_timer(connection, cursor, statement, parameters, context, executemany) -> None:
        # Kept on the connection, which runs one statement at a time; a failed statement's
        # start is simply overwritten by the next one's.
        connection.info["statement_started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def log_duration(connection, cursor, statement, parameters, context, executemany) -> None:
        started = connection.info["statement_started"]
        kind = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "EMPTY"
        logger.debug("sql.statement", kind=kind, duration_ms=round((time.perf_counter() - started) * 1000, 2))

"""Logging set up once per process: one JSON object per line on standard output.

Two kinds of logger write here. The app's own go through structlog
(`structlog.get_logger().info("user.registered", user_id=7)`); the libraries'
(uvicorn, Celery, httpx2, SQLAlchemy) through the standard library's `logging`.
Both end in the same handler, whose structlog `ProcessorFormatter` renders every
record as JSON, so a process writes one format that a log pipeline can parse:

    {"event": "user.registered", "user_id": 7, "correlation_id": "9f0c...",
     "level": "info", "logger": "lessons.s11_capstone.services",
     "timestamp": "2026-11-29T21:07:12.345678Z", "thread": "AnyIO worker thread"}

`merge_contextvars` comes first: whatever `structlog.contextvars.bind_contextvars`
bound for the running request or task (its correlation id, correlation.py) lands
in every line, structlog's and the libraries' alike.
"""

import logging
import sys
import threading

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

# Library loggers that speak at INFO about every request or statement: kept to warnings.
QUIET_LIBRARIES = ("httpcore", "multipart", "PIL", "asyncio", "aiosmtpd", "mail.log")


def add_thread_name(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Which thread logged: a `def` route's lines come from anyio's worker threads, and still carry the request's id."""
    event_dict["thread"] = threading.current_thread().name
    return event_dict


# Applied to structlog's events and to the libraries' records alike.
SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    add_thread_name,
]


class CurrentStdout(logging.StreamHandler):
    """Writes to whatever sys.stdout is when a line is logged, so the lines land in a
    notebook cell or a test's captured output even when logging was set up earlier."""

    def emit(self, record: logging.LogRecord) -> None:
        # Assigned, not setStream(): that flushes the stream it replaces, which may be closed by now.
        self.stream = sys.stdout
        super().emit(record)


def json_formatter() -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        # A library's record (from `logging`) first gets what structlog's events already have.
        foreign_pre_chain=SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,  # a traceback becomes the "exception" field, in the JSON
            structlog.processors.JSONRenderer(),
        ],
    )


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on standard output: the app's loggers at `level`, the libraries' at INFO and up.

    Safe to call again (each app start, each worker process): it replaces the
    handler it installed rather than adding a second one, which would print every line twice.
    """
    structlog.configure(
        processors=[*SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
    )
    handler = CurrentStdout()
    handler.setFormatter(json_formatter())
    handler.set_name("storefront-json")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "storefront-json"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # The app's own loggers go down to `level` (DEBUG shows the SQL timings, sql_timing.py)
    # without every library's debug lines coming too.
    logging.getLogger(__package__).setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    # uvicorn gives its loggers handlers of their own, in its own text format: drop them,
    # so their records reach the root's JSON handler instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
    # One line per request, not two: correlation.py's request.answered already holds what
    # uvicorn's access line says (method, path, status) and more (duration, correlation id).
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)

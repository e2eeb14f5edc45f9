"""structlog set up once, for readable key=value lines on standard output."""

import structlog


def configure_logging() -> None:
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        # A fresh PrintLogger per logger writes to whatever sys.stdout is at the time,
        # so the lines land in a notebook cell or a test's captured output.
        logger_factory=structlog.PrintLoggerFactory(),
    )

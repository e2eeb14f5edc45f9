"""A real SMTP server for the workbook: it keeps every message it receives.

The stage's worker sends mail with smtplib to this server (aiosmtpd, running in
a thread). Each message is stored as an .eml file under `.workbook/mailbox/`
(or the directory given), and a line is printed when one arrives.
`python -m workbook mail` lists them and shows the newest.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

from workbook.serving import free_port
from workbook.stages import ROOT

MAILBOX = ROOT / ".workbook" / "mailbox"


class SavingHandler:
    """aiosmtpd calls handle_DATA once per message, after the client's DATA command."""

    def __init__(self, directory: Path, announce: Callable[[str], None]) -> None:
        self.directory = directory
        self.announce = announce
        self.numbers = itertools.count(1)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        path = self.directory / f"{stamp}-{next(self.numbers):03d}.eml"
        path.write_bytes(envelope.original_content or envelope.content)
        message = read_message(path)
        self.announce(f"mail: to {', '.join(envelope.rcpt_tos)}: {message['Subject']!r} saved as {path.name}")
        return "250 Message accepted for delivery"


class MailServer:
    """The SMTP server on 127.0.0.1:`port`; stop() and start() again keep the port,
    so a test or the notebook can take it down and bring it back."""

    def __init__(
        self, directory: Path = MAILBOX, port: int | None = None, announce: Callable[[str], None] = print
    ) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.handler = SavingHandler(directory, announce)
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> MailServer:
        if self._controller is None:
            controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
            controller.start()  # returns once the server answers
            self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def messages(directory: Path = MAILBOX) -> list[Path]:
    """The stored messages, oldest first (their names start with the time they arrived)."""
    return sorted(directory.glob("*.eml")) if directory.exists() else []


def read_message(path: Path) -> EmailMessage:
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def describe(path: Path) -> str:
    message = read_message(path)
    return f"{path.name}  to {message['To']}  {message['Subject']!r}"


def show(path: Path) -> str:
    """The message as a learner wants to read it: its headers, then its text."""
    message = read_message(path)
    headers = "\n".join(f"{name}: {message[name]}" for name in ("From", "To", "Subject", "Date") if message[name])
    body = message.get_body(preferencelist=("plain",))
    return f"{headers}\n\n{body.get_content() if body else ''}"

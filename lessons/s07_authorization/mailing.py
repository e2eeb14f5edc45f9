"""Email: what the welcome message says, and how a message leaves the app.

Nothing here knows about FastAPI or Celery. `MailSender` is the port the
services use; `SmtpMailSender` is the adapter that really talks SMTP (smtplib,
from the standard library) to whatever server Settings names: in this workbook
the mail server `python -m workbook serve 04` starts, which keeps every message.
"""

import smtplib
from email.message import EmailMessage
from typing import Protocol

from .models import User

WELCOME_SUBJECT = "Welcome to the Storefront"


class MailSender(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand the message to a mail server; raises OSError when that fails."""
        ...


class SmtpMailSender:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host = host
        self.port = port
        # Without a timeout a server that accepts the connection and then says
        # nothing would hold the worker forever.
        self.timeout = timeout

    def send(self, message: EmailMessage) -> None:
        # One connection per message: a worker sends few emails, and a fresh
        # connection cannot be a stale one left over from a server restart.
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(message)


def welcome_message(mail_from: str, user: User) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = user.email
    message["Subject"] = WELCOME_SUBJECT
    message.set_content(
        f"Hello {user.name},\n\n"
        "your Storefront account is ready. Sign in with this address to start shopping.\n\n"
        "The Storefront team\n"
    )
    return message

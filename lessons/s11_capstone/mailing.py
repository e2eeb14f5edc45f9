"""Email: what the welcome message and the registration notice say, and how a message leaves the app.

Nothing here knows about FastAPI or Celery. `MailSender` is the port the
services use; `SmtpMailSender` is the adapter that really talks SMTP (smtplib,
from the standard library) to whatever server Settings names: in this workbook
the mail server `python -m workbook serve 04` starts, which keeps every message.
"""

import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from typing import Protocol

from .models import User

WELCOME_SUBJECT = "Welcome to the Storefront"
NOTICE_SUBJECT = "Someone tried to register your email at the Storefront"


class MailSender(Protocol):
    def send(self, message: EmailMessage, accepted: Callable[[], None]) -> None:
        """Hand the message to a mail server; raises OSError when that fails.

        Calls `accepted` as soon as the server has taken the message, before
        anything else is said to it: the narrowest point at which the caller
        can record "sent".
        """
        ...


class SmtpMailSender:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host = host
        self.port = port
        # Without a timeout a server that accepts the connection and then says
        # nothing would hold the worker forever.
        self.timeout = timeout

    def send(self, message: EmailMessage, accepted: Callable[[], None]) -> None:
        # One connection per message: a worker sends few emails, and a fresh
        # connection cannot be a stale one left over from a server restart.
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(message)  # returns once the server answered 250 to the message
            accepted()  # before the QUIT that leaving the `with` sends: one round trip less in the window


def welcome_message_id(mail_from: str, tenant_id: str, user_id: int) -> str:
    """The same Message-ID every time this user's welcome email is sent.

    Derived from what the email is, not from the attempt: should a crash make the
    app send it twice (services.py says when), both copies carry one Message-ID,
    and mail clients and servers downstream can recognise the second as a copy.
    """
    domain = parseaddr(mail_from)[1].rpartition("@")[2]
    return f"<welcome.{tenant_id}.{user_id}@{domain}>"


def welcome_message(mail_from: str, user: User, message_id: str, confirmation_code: str) -> EmailMessage:
    message = EmailMessage()
    message["Message-ID"] = message_id
    message["From"] = mail_from
    message["To"] = user.email
    message["Subject"] = WELCOME_SUBJECT
    message.set_content(
        f"Hello {user.name},\n\n"
        "your Storefront account is almost ready. Confirm this address to log in: send this code\n"
        "to POST /users/confirm-email (in /docs: Try it out) within two days.\n\n"
        f"{confirmation_code}\n\n"
        "The Storefront team\n"
    )
    return message


def registration_notice(mail_from: str, user: User) -> EmailMessage:
    """For an account's owner when someone registers their email again; it says nothing new to anyone else."""
    message = EmailMessage()
    # Each notice is news of a different attempt: a fresh Message-ID, unlike the welcome email's.
    message["Message-ID"] = make_msgid(domain=parseaddr(mail_from)[1].rpartition("@")[2])
    message["From"] = mail_from
    message["To"] = user.email
    message["Subject"] = NOTICE_SUBJECT
    message.set_content(
        f"Hello {user.name},\n\n"
        "someone asked to register a Storefront account with this address, which already has one.\n"
        "If it was you, log in as usual, or change your password once you are in. If not, you can\n"
        "ignore this email: no second account was made.\n\n"
        "The Storefront team\n"
    )
    return message

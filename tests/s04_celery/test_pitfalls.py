"""The pitfall stage 04 corrects: a worker process that inherits its parent's pooled connections.

Celery's prefork pool starts its child processes with fork(). A child is a copy
of the parent, engine and pool included: if the parent had used the database
(the worker opens its resources before forking, see worker.py), the child's
pool holds the PARENT's connection, the same socket or file handle. Two
processes sharing one connection interleave their statements and read each
other's replies. worker_process_init's `dispose(close=False)` gives each child
an empty pool, without closing the parent's connections.

Two errata follow: a countdown of `10 ** retries` (1, 10, 100 s...) against the
stage's capped, jittered backoff, and `smtplib.SMTP.sendmail` with a hand-written
message that is not ASCII against `EmailMessage` and `send_message`.

(The other pitfall, eager mode as the only Celery test, is in test_eager.py and
test_worker.py.)
"""

import json
import os
import random
import smtplib
from email.headerregistry import Address

import pytest
from sqlalchemy import event, text

from lessons.s04_celery import worker
from lessons.s04_celery.mailing import SmtpMailSender, welcome_message, welcome_message_id
from lessons.s04_celery.models import User
from lessons.s04_celery.retrying import backoff_delay
from lessons.s04_celery.settings import get_settings
from workbook.mail_server import messages, read_message

pytestmark = pytest.mark.services


@pytest.fixture
def worker_engine(monkeypatch, tmp_path, services, database_url):
    """The worker's engine as a worker's main process leaves it: opened, one connection pooled."""
    if not services:
        monkeypatch.setenv("WORKBOOK_DATABASE_URL", f"sqlite:///{tmp_path}/shop.db")
    get_settings.cache_clear()
    worker.worker_resources.cache_clear()
    engine = worker.worker_resources().engine

    @event.listens_for(engine, "connect")
    def remember_who_opened_it(dbapi_connection, connection_record) -> None:
        connection_record.info["opened_by"] = os.getpid()

    engine.dispose()  # start from an empty pool, so every connection carries the mark
    worker.open_before_forking()  # what worker_init does in the main process
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))  # the main process uses its pool: one connection stays in it
    yield engine
    engine.dispose()
    worker.worker_resources.cache_clear()
    get_settings.cache_clear()


def connection_in_child(engine, after_fork) -> dict:
    """Fork like the prefork pool does, run `after_fork` in the child, report the connection it gets."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            after_fork()
            with engine.connect() as connection:
                report = {"child": os.getpid(), "opened_by": connection.connection.info.get("opened_by")}
                if engine.dialect.name == "postgresql":
                    report["backend_pid"] = connection.execute(text("SELECT pg_backend_pid()")).scalar()
            os.write(write_end, json.dumps(report).encode())
        finally:
            os._exit(0)  # never run the parent's pytest machinery in the child
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        report = json.loads(reader.read())
    os.waitpid(pid, 0)
    return report


def parent_backend_pid(engine) -> int | None:
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar()


def test_pitfall_a_forked_child_uses_the_parents_pooled_connection(worker_engine):
    report = connection_in_child(worker_engine, after_fork=lambda: None)
    assert report["opened_by"] == os.getpid() != report["child"], (
        "without the fix, the child is handed the connection its parent opened"
    )
    if report.get("backend_pid") is not None:
        assert report["backend_pid"] == parent_backend_pid(worker_engine), "one PostgreSQL session, two processes"


def test_fixed_worker_process_init_gives_each_child_its_own_connection(worker_engine):
    report = connection_in_child(worker_engine, after_fork=worker.forget_inherited_connections)
    assert report["opened_by"] == report["child"], "after dispose(close=False) the child opens its own connection"
    if report.get("backend_pid") is not None:
        assert report["backend_pid"] != parent_backend_pid(worker_engine)


def test_the_parents_connection_still_works_after_the_child_disposed(worker_engine):
    connection_in_child(worker_engine, after_fork=worker.forget_inherited_connections)
    with worker_engine.connect() as connection:
        assert connection.connection.info["opened_by"] == os.getpid(), "the parent keeps its pooled connection"
        assert connection.execute(text("SELECT 1")).scalar() == 1, "close=False left the parent's socket open"


# --- The countdown between retries ---------------------------------------------------------------


def test_pitfall_ten_to_the_retries_is_not_a_gentle_doubling():
    recipe = [10**retries for retries in range(6)]
    assert recipe[:3] == [1, 10, 100], "each wait is ten times the last, not twice"
    assert sum(recipe) > 24 * 3600, "five retries in, the email has waited more than a day"


def test_fixed_the_stage_backoff_doubles_its_ceiling_up_to_the_cap_and_draws_below_it():
    rng = random.Random(0)
    base, cap = 1.0, 60.0
    for retries in range(12):
        ceiling = min(cap, base * 2**retries)
        delay = backoff_delay(retries, base, cap, rng)
        assert ceiling / 2 <= delay <= ceiling, f"retry {retries}: {delay} s outside [{ceiling / 2}, {ceiling}]"
    total = sum(backoff_delay(retries, base, cap, rng) for retries in range(6))
    assert total < 64, "the first six waits stay within a minute or so in all"


# --- A display name that is not ASCII ------------------------------------------------------------

ZOE = Address(display_name="Zoë Ångström", addr_spec="zoe@example.com")


def test_pitfall_sendmail_with_a_hand_written_non_ascii_message_raises(mail_server):
    handwritten = (
        f"From: Storefront <hello@storefront.example>\nTo: {ZOE}\nSubject: Welcome\n\nHello {ZOE.display_name}\n"
    )
    with smtplib.SMTP("127.0.0.1", mail_server.port, timeout=5) as smtp, pytest.raises(UnicodeEncodeError):
        smtp.sendmail("hello@storefront.example", [ZOE.addr_spec], handwritten)
    assert messages(mail_server.directory) == [], "nothing left the app"


def test_fixed_an_email_message_sent_with_send_message_carries_the_name(mail_server):
    sender = "Storefront <hello@storefront.example>"
    zoe = User(email=ZOE.addr_spec, name=ZOE.display_name)
    message = welcome_message(sender, zoe, welcome_message_id(sender, "acme", 1))
    message.replace_header("To", ZOE)
    accepted = []
    SmtpMailSender("127.0.0.1", mail_server.port, timeout=5).send(message, accepted=lambda: accepted.append(True))
    assert accepted == [True], "the sender says when the server took the message"
    [stored] = messages(mail_server.directory)
    assert b"To: =?utf-8?" in stored.read_bytes(), "the name travels as an RFC 2047 encoded word"
    received = read_message(stored)
    assert received["To"] == "Zoë Ångström <zoe@example.com>"
    assert received.get_body().get_content().startswith("Hello Zoë Ångström,")

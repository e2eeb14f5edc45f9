"""The outbox relay: queue the welcome email again for every user still owed one.

Registration writes a WelcomeEmail row with the user (models.py) and the route
queues the task at once: the fast path, which nearly always delivers. The relay
is the safety net, run every few seconds by Celery beat (worker.py). It queues
the task again for each unsent email that is no longer on its way:

- its retries ran out (the mail server was down longer than they last): the task
  handed it back by clearing `queued_at`;
- or it was queued longer ago than a whole chain of retries can last, so that
  task was lost (the broker was down when the route queued it, say).

An email whose task is still retrying is left alone, so an outage does not pile
up a new chain per email per relay. Queueing again is safe: the claim markers
(markers.py) make a second run find "already sent". So an outage of any length
delays the email, and loses none.
"""

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .models import WelcomeEmail, utc_now


def relay_welcome_emails(session: Session, queue: Callable[[int], object], chain_lasts: timedelta) -> list[int]:
    """Queue, through `queue(user_id)`, every welcome email that is owed and not on its way; answers their user ids."""
    now = utc_now()
    due = select(WelcomeEmail).where(
        WelcomeEmail.sent_at.is_(None),
        or_(WelcomeEmail.queued_at.is_(None), WelcomeEmail.queued_at < now - chain_lasts),
    )
    # SKIP LOCKED (PostgreSQL): were two relays ever to run at once, each takes different rows.
    rows = list(session.scalars(due.with_for_update(skip_locked=True)))
    for row in rows:
        queue(row.user_id)  # if the broker refuses, this raises and the rollback keeps the row due
        row.queued_at = now
    session.commit()
    return [row.user_id for row in rows]

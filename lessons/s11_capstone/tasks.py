"""Celery tasks. A task is a thin shell: it builds the service from the worker's
resources, calls it, and decides what a failure means (retry or give up).
The rules themselves live in services.py, shared with the routes."""

import smtplib
from datetime import timedelta
from functools import partial

import structlog
from celery import Task

from .email_confirmation import confirmation_code
from .mailing import registration_notice
from .outbox import relay_welcome_emails
from .repositories import SqlAlchemyUserRepository
from .retrying import backoff_delay, retry_budget_seconds
from .settings import get_settings
from .welcome_emails import WelcomeEmails, WelcomeInProgress
from .worker import celery_app, worker_resources

# Failures worth retrying: the mail server is down, unreachable, slow or hung up, or
# another run holds this email's claim. Anything else (a bug, a tenant that does not
# exist) fails the task at once.
RETRYABLE = (
    ConnectionError,
    TimeoutError,
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    WelcomeInProgress,
)


@celery_app.task(bind=True)
def send_welcome_email(self: Task, tenant_id: str, user_id: int) -> dict[str, str | int]:
    """Send a registered user's welcome email; retried with backoff while the mail server fails."""
    settings = get_settings()
    resources = worker_resources()
    tenant = resources.tenants.get(tenant_id)
    if tenant is None:
        raise LookupError(f"No tenant {tenant_id!r}")
    logger = structlog.get_logger().bind(task_id=self.request.id, attempt=self.request.retries + 1)
    with tenant.sessions() as session:
        welcome = WelcomeEmails(
            tenant_id,
            SqlAlchemyUserRepository(session),
            resources.mailer,
            resources.markers,
            logger,
            mail_from=settings.mail_from,
            claim_seconds=settings.welcome_claim_seconds,
            confirmation_code=partial(confirmation_code, resources.tokens, tenant_id),
        )
        try:
            outcome = welcome.send(user_id)
        except RETRYABLE as error:
            if self.request.retries >= settings.welcome_max_retries:
                logger.error("welcome.giving_up", error=repr(error))
                welcome.give_up(user_id)  # the outbox relay will queue it again
                raise  # the task ends in FAILURE with the mail server's error
            delay = backoff_delay(
                self.request.retries, settings.welcome_retry_base_seconds, settings.welcome_retry_cap_seconds
            )
            logger.warning("welcome.retrying", error=repr(error), retry_in=round(delay, 2))
            # retry() raises: the message is sent again with a countdown, and the
            # task's state is RETRY until a worker picks it up.
            raise self.retry(exc=error, countdown=delay, max_retries=settings.welcome_max_retries) from error
    return {"outcome": outcome, "user_id": user_id}


@celery_app.task
def relay_outbox() -> dict[str, list[int]]:
    """Queue again every welcome email still owed (outbox.py); Celery beat runs it every welcome_relay_seconds."""
    settings = get_settings()
    tenants = worker_resources().tenants
    # A task queued more recently than this may still be retrying: leave it be.
    chain_lasts = timedelta(
        seconds=retry_budget_seconds(
            settings.welcome_retry_base_seconds,
            settings.welcome_retry_cap_seconds,
            settings.welcome_max_retries,
            settings.smtp_timeout_seconds,
        )
    )
    relayed = {}
    for tenant in tenants:
        with tenant.sessions() as session:
            queue = partial(send_welcome_email.delay, tenant.id)  # queue(user_id) sends (tenant_id, user_id)
            relayed[tenant.id] = relay_welcome_emails(session, queue, chain_lasts)
    structlog.get_logger().info("welcome.relayed", **{tenant: len(ids) for tenant, ids in relayed.items()})
    return relayed


# No claim markers and no outbox, unlike the welcome email: a second copy of a notice
# does no harm, and one lost after its retries is owed to nobody (registration_notices.py).
@celery_app.task(autoretry_for=RETRYABLE, retry_backoff=True, max_retries=5)
def send_registration_notice(tenant_id: str, user_id: int) -> dict[str, str | int]:
    """Tell an account's owner that someone tried to register their email again."""
    settings = get_settings()
    resources = worker_resources()
    tenant = resources.tenants.get(tenant_id)
    if tenant is None:
        raise LookupError(f"No tenant {tenant_id!r}")
    with tenant.sessions() as session:
        user = SqlAlchemyUserRepository(session).get(user_id)
        if user is None:
            return {"outcome": "no such user", "user_id": user_id}
        resources.mailer.send(registration_notice(settings.mail_from, user), accepted=lambda: None)
    structlog.get_logger().info("registration_notice.sent", user_id=user_id)
    return {"outcome": "sent", "user_id": user_id}

"""The Celery app, `celery_app`, and what each worker process needs to run tasks.

Start a worker with
    celery -A lessons.s11_capstone.worker worker --pool=prefork --concurrency=1
(`make serve LESSON=11` does it for you, with a broker and a mail server).

The app is built from the same Settings as the web app. With no broker
configured it uses kombu's in-memory transport and an in-memory result store:
the web app still imports, starts and queues tasks with nothing running; the
tasks stay PENDING, because no worker reads that in-process queue. (That store
is also private to each thread, so it is no place to keep results a route
reads: a real backend, Redis here, is.)
"""

import math
from dataclasses import dataclass
from functools import lru_cache

import fakeredis
from celery import Celery
from celery.signals import worker_init, worker_process_init
from redis import Redis
from sqlalchemy import Engine

from .database import create_db_engine
from .logging_config import configure_logging
from .mailing import SmtpMailSender
from .markers import RedisOnceMarkers
from .pool_sizing import worker_pool_options
from .retrying import longest_unacked_seconds
from .settings import Settings, get_settings
from .sql_timing import time_statements
from .task_correlation import CorrelatedTask, carry_correlation_ids
from .tenancy import TenantRegistry, open_tenants, schema_for
from .token_service import open_token_service
from .tokens import TokenService


def create_celery(settings: Settings) -> Celery:
    app = Celery(
        "storefront",
        broker=settings.broker_url or "memory://localhost/",
        backend=settings.result_backend or "cache+memory://",
        include=[f"{__package__}.tasks"],
        # Its Request binds a message's correlation id for the worker's "received" line (task_correlation.py).
        task_cls=CorrelatedTask,
    )
    app.conf.update(
        # JSON only: a task's arguments must survive the trip to another process,
        # and JSON refuses (at .delay() time) anything that would not.
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        # Acknowledge a message after the task has run, not when it is received:
        # a worker that dies mid-task leaves the message to be delivered again.
        task_acks_late=True,
        # ...and if the pool process running it is killed (OOM, SIGKILL), requeue
        # the message instead of marking the task failed.
        task_reject_on_worker_lost=True,
        # Each pool process reserves one message at a time: a long task does not
        # sit on others that an idle process could run (and with late acks a
        # reserved message is one more that a crash would redeliver).
        worker_prefetch_multiplier=1,
        # Report STARTED while a task runs (PENDING would otherwise last until it ends),
        # and store the retry count and task name with each state.
        task_track_started=True,
        result_extended=True,
        # Redis has no acknowledgements of its own: kombu keeps each delivered message
        # aside and puts it back on the queue if it is not acknowledged within the
        # visibility timeout (one hour by default). That is how a message held by a
        # worker that was killed comes back, so an hour is how long its email would
        # wait. It must outlast the longest a live worker holds a message (a retry's
        # countdown, then one attempt: retrying.py), or a slow run is handed to a
        # second worker while it still runs; twice that is the margin. (RabbitMQ
        # redelivers as soon as the dead worker's connection drops, and ignores this.)
        broker_transport_options={
            "visibility_timeout": visibility_timeout_seconds(settings),
            # A live worker looks for such messages every 10 s, but by default scans
            # only every 10th time: 100 s more. Every time, so 10 s is the only delay.
            "unacked_restore_throttle": 1,
        },
        # Celery beat (a process of its own, started once: `make serve` does) runs the
        # outbox relay, which queues again every welcome email still owed (outbox.py).
        beat_schedule={
            "relay-welcome-outbox": {
                "task": f"{__package__}.tasks.relay_outbox",
                "schedule": settings.welcome_relay_seconds,
            },
        },
        # Pool processes when the command line names none (--concurrency): the number the
        # API's start-up counts against the database's connections (pool_sizing.py).
        worker_concurrency=settings.worker_concurrency,
        # Said explicitly, as Celery 5 asks: keep retrying the broker at start-up.
        broker_connection_retry_on_startup=True,
        # Leave the root logger alone: task_correlation.py sets up the worker's JSON logging.
        worker_hijack_root_logger=False,
        # ...and let print-style loggers (structlog here) write straight to standard output,
        # instead of being re-logged as WARNING lines.
        worker_redirect_stdouts=False,
    )
    return app


def visibility_timeout_seconds(settings: Settings) -> int:
    """Twice the longest a live worker can hold a welcome email's message unacknowledged, in whole seconds."""
    longest = longest_unacked_seconds(settings.welcome_retry_cap_seconds, settings.smtp_timeout_seconds)
    return math.ceil(2 * longest)


celery_app = create_celery(get_settings())
# Tasks queued during a request carry its correlation id, and the worker logs it (task_correlation.py).
carry_correlation_ids()


@dataclass
class WorkerResources:
    """What a task needs, built once per worker process (the worker's lifespan)."""

    engine: Engine
    tenants: TenantRegistry
    mailer: SmtpMailSender
    markers: RedisOnceMarkers
    tokens: TokenService  # signs the confirmation code each welcome email carries


@lru_cache
def worker_resources() -> WorkerResources:
    settings = get_settings()
    configure_logging(settings.log_level)
    schemas = [schema_for(t) for t in settings.tenants]
    # One connection: what start-up's pool check counts for each worker process (pool_sizing.py).
    engine = create_db_engine(settings.database_url, schemas=schemas, pool=worker_pool_options(settings))
    time_statements(engine)  # each statement's duration, at DEBUG, with the task's correlation id
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else fakeredis.FakeRedis()
    return WorkerResources(
        engine=engine,
        tenants=open_tenants(engine, settings.tenants, settings.migrate_at_startup),
        mailer=SmtpMailSender(settings.smtp_host, settings.smtp_port, settings.smtp_timeout_seconds),
        markers=RedisOnceMarkers(redis),
        tokens=open_token_service(settings),
    )


@worker_init.connect
def open_before_forking(**kwargs) -> None:
    # Runs once in the worker's main process, before the prefork pool starts its
    # children: a bad database URL stops the worker at start-up, not at the first
    # task. Migrating the schemas leaves a connection in the engine's pool, and
    # every child process starts as a copy of this one, pool included.
    worker_resources()


@worker_process_init.connect
def forget_inherited_connections(**kwargs) -> None:
    # Runs in each pool child right after the fork. The pooled connections it
    # inherited are the parent's sockets: two processes talking over one socket
    # interleave their queries and read each other's results. dispose(close=False)
    # empties this child's pool WITHOUT closing those sockets (closing them would
    # also end the parent's connection); the child then opens its own.
    worker_resources().engine.dispose(close=False)

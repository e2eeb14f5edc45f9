"""The full stack of a stage with a Celery worker, started with one command.

For a stage whose folder holds `worker.py`, `python -m workbook serve NN`
starts, and Ctrl-C stops:

- the embedded broker: fakeredis over TCP, in a thread (or a real Redis, if given,
  or another broker, RabbitMQ say, given by its own URL);
- the mail server (workbook/mail_server.py), in a thread;
- for a stage with `payments.py`, the fake HTTPS payment provider
  (workbook/payment_provider.py), in a thread, its CA trusted by the app;
- a real Celery worker PROCESS: `celery -A lessons.sNN_x.worker worker`, prefork, one child;
- Celery beat, in a process of its own: exactly one per stack, as the periodic
  jobs it sends (the welcome-email outbox relay) must each go out once;
- the app, served by uvicorn in its own process; with `api_processes=N`, N of them,
  each on a port of its own (`Stack.app_urls`), sharing only the database, Redis
  and the broker, so a test can send each request to the process it chooses; with
  `api_workers=N`, each is uvicorn's supervisor with N worker processes on its one
  port, as in production, where the kernel spreads the connections over them.
  Every API process is told how many there are (WORKBOOK_WORKERS), so the check
  that all their connection pools fit the database server counts them all.
  They share one media folder too (WORKBOOK_MEDIA_DIR), so any of them serves an upload.

Both processes are configured through the same WORKBOOK_* variables as
everything else, and share a SQLite file (in-memory SQLite would give each
process a database of its own). Each process leads a process group of its own,
so stopping the stack signals the whole group (the worker's pool children too)
and nothing is left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx2

from workbook.broker import embedded_broker
from workbook.mail_server import MAILBOX, MailServer
from workbook.payment_provider import PaymentProvider, has_payments, payment_env, provider_from_environment
from workbook.serving import free_port, proxy_arguments, server_arguments, shutdown_arguments, shutdown_grace
from workbook.stages import ROOT, Stage


def has_worker(stage: Stage) -> bool:
    return (stage.directory / "worker.py").exists()


@dataclass
class Service:
    """One child process, its output kept line by line (and echoed, if asked)."""

    name: str
    process: subprocess.Popen
    lines: list[str] = field(default_factory=list)
    pumping: threading.Thread | None = None
    grace: float = 10  # seconds from SIGTERM to SIGKILL

    def pump(self, echo: Callable[[str], None] | None) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            line = line.rstrip("\n")
            self.lines.append(line)
            if echo:
                echo(f"[{self.name}] {line}")

    def stop(self) -> None:
        """SIGTERM to the whole process group; SIGKILL whatever is still there after `grace` seconds."""
        for sig, wait in ((signal.SIGTERM, self.grace), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break  # the group is gone: nothing left to stop
            try:
                self.process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            if not _group_alive(self.process.pid):
                break
        self.process.wait()
        if self.pumping is not None:
            self.pumping.join(timeout=5)  # it has read the last lines
        if self.process.stdout is not None:
            self.process.stdout.close()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)  # signal 0 only asks whether anyone in the group is there
    except ProcessLookupError:
        return False
    return True


@dataclass
class Stack:
    stage: Stage
    app_urls: list[str]  # one per API process, each its own uvicorn
    mail: MailServer
    env: dict[str, str]
    services: dict[str, Service]
    payments: PaymentProvider | None = None

    @property
    def app_url(self) -> str:
        """The first API process: the only one, unless the stack was asked for more."""
        return self.app_urls[0]

    @property
    def redis_url(self) -> str:
        """The app's own Redis (rate limits, email markers), as both processes were told."""
        return self.env["WORKBOOK_REDIS_URL"]

    def lines(self, name: str) -> list[str]:
        return list(self.services[name].lines)

    def wait(self) -> None:
        """Block until a process of the stack ends (or Ctrl-C)."""
        while all(service.process.poll() is None for service in self.services.values()):
            time.sleep(0.2)
        ended = [s.name for s in self.services.values() if s.process.poll() is not None]
        print(f"stopping: {', '.join(ended)} ended")


def stack_env(
    redis_url: str,
    embedded: bool,
    database_url: str,
    smtp_port: int,
    extra: dict[str, str],
    broker_url: str | None = None,
) -> dict[str, str]:
    """The WORKBOOK_* settings both processes read. `broker_url`, if given, replaces Redis as the broker."""
    if embedded:
        # The embedded server is the stack's alone: the app's own Redis (rate limits,
        # email markers), the broker and the results each get a database of their own.
        app_redis, broker, results = (f"{redis_url}/{number}" for number in (0, 1, 2))
    else:
        # A given server (the services tier) is used as it is: the keys do not collide.
        app_redis = broker = results = redis_url
    return {
        "WORKBOOK_DATABASE_URL": database_url,
        "WORKBOOK_REDIS_URL": app_redis,
        "WORKBOOK_BROKER_URL": broker_url or broker,
        "WORKBOOK_RESULT_BACKEND": results,
        "WORKBOOK_SMTP_HOST": "127.0.0.1",
        "WORKBOOK_SMTP_PORT": str(smtp_port),
        **extra,
    }


# On Linux, each child asks the kernel to send it SIGTERM when its parent dies
# (prctl PR_SET_PDEATHSIG, kept across exec), then becomes the real command. So
# even a supervisor that is killed outright (kill -9, a notebook kernel that is
# shut down mid-cell) leaves no app or worker running on its own.
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)\n"
    "if os.getppid() != int(sys.argv[1]): sys.exit(1)  # the parent died before prctl\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def _start(name: str, command: list[str], env: dict[str, str], echo: Callable[[str], None] | None) -> Service:
    if sys.platform == "linux":
        command = [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *command]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        # A process group of its own: Ctrl-C in the terminal reaches only the
        # supervisor, which then stops each group in order, pool children included.
        process_group=0,
    )
    service = Service(name, process)
    service.pumping = threading.Thread(target=service.pump, args=(echo,), name=f"pump-{name}", daemon=True)
    service.pumping.start()
    return service


def _wait_for(check: Callable[[], bool], service: Service, what: str, timeout: float = 120) -> None:
    """Wait until `check` passes. A process that exits is reported at once; the timeout bounds only
    one that hangs, and is long because a machine busy with other work takes most of a minute to
    start several processes of a stage at once."""
    deadline = time.monotonic() + timeout
    while not check():
        if service.process.poll() is not None:
            raise RuntimeError(f"{what} exited: " + "\n".join(service.lines[-20:]))
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start in {timeout} s: " + "\n".join(service.lines[-20:]))
        time.sleep(0.1)


def _workers_started(service: Service, workers: int) -> bool:
    """Whether each of uvicorn's `workers` has logged the end of its start-up (one process: itself)."""
    return sum("Application startup complete." in line for line in service.lines) >= workers


def _answers(url: str) -> bool:
    try:
        return httpx2.get(url, timeout=1).status_code == 200
    except httpx2.TransportError:
        return False


@contextmanager
def running_stack(
    stage: Stage,
    *,
    port: int | None = None,
    host: str = "127.0.0.1",
    redis_url: str | None = None,
    database_url: str | None = None,
    mailbox: Path = MAILBOX,
    extra_env: dict[str, str] | None = None,
    echo: Callable[[str], None] | None = None,
    concurrency: int = 1,
    api_processes: int = 1,
    api_workers: int = 1,
    broker_url: str | None = None,
) -> Iterator[Stack]:
    """Start broker, mail server, worker and app; yield the Stack; stop them all on exit.

    `port` is the first API process's; with `api_processes` above 1 the others take free ports.
    `broker_url` names a broker of its own (amqp://... for RabbitMQ); without it the
    broker is the stack's Redis: the embedded one, or `redis_url`.
    """
    with ExitStack() as cleanup:
        embedded = redis_url is None
        if database_url is None:
            scratch = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="workbook-stack-"))
            database_url = f"sqlite:///{scratch}/storefront.db"
        mail = cleanup.enter_context(MailServer(mailbox, announce=echo or (lambda line: None)))
        payments = None
        if has_payments(stage):
            # Its certificates in a folder of this run's own: two stacks never share a CA.
            certificates = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="workbook-payments-"))
            payments = cleanup.enter_context(provider_from_environment(Path(certificates)))
        redis_url = cleanup.enter_context(embedded_broker()) if redis_url is None else redis_url
        # One folder for the uploads of every API process: an image one process stored, another
        # serves (each would otherwise make a temporary folder of its own, seen by no other).
        media = {"WORKBOOK_MEDIA_DIR": cleanup.enter_context(tempfile.TemporaryDirectory(prefix="workbook-media-"))}
        extra = {
            "WORKBOOK_WORKERS": str(api_processes * api_workers),
            **media,
            **payment_env(payments),
            **(extra_env or {}),
        }
        env = stack_env(redis_url, embedded, database_url, mail.port, extra, broker_url)
        ports = [port or free_port(), *(free_port() for _ in range(api_processes - 1))]
        services: dict[str, Service] = {}
        # Where beat keeps when each job last ran; removed only after every process has stopped.
        schedule = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="workbook-beat-"))

        # Registered first, so it runs last: every process is stopped before the
        # broker and the mail server go away.
        def stop_services() -> None:
            for service in reversed(services.values()):
                service.stop()

        cleanup.callback(stop_services)
        worker_command = [
            sys.executable, "-m", "celery", "-A", f"lessons.{stage.package}.worker", "worker",
            "--pool=prefork", f"--concurrency={concurrency}", "--loglevel=INFO",
            "--without-gossip", "--without-mingle", "--hostname", f"stage{stage.number}@%h",
        ]  # fmt: skip
        services["worker"] = _start("worker", worker_command, env, echo)
        # The worker first, then beat and the app: once the worker is ready, the tables
        # exist and the broker answers. (Starting them together would be safe too: each
        # creates what is missing under a PostgreSQL advisory lock, see database.py.)
        # Generous: on a machine busy with other work, Celery alone can take half a minute to start.
        worker = services["worker"]
        _wait_for(lambda: any(" ready." in line for line in worker.lines), worker, "worker")
        beat_command = [
            sys.executable, "-m", "celery", "-A", f"lessons.{stage.package}.worker", "beat", "--loglevel=INFO",
            "--schedule", f"{schedule}/schedule",
        ]  # fmt: skip
        services["beat"] = _start("beat", beat_command, env, echo)
        app_urls = [f"http://{host}:{app_port}" for app_port in ports]
        # One after the other, each answering before the next starts: on SQLite nothing
        # serialises what each process writes at start-up (tables, demo rows, role permissions),
        # and on PostgreSQL the advisory lock of database.py guards the tables only.
        for number, (app_port, app_url) in enumerate(zip(ports, app_urls, strict=True), start=1):
            name = "app" if number == 1 else f"app-{number}"
            services[name] = _start_app(name, stage, host, app_port, api_workers, env, echo)
            _wait_for(partial(_answers, f"{app_url}/health"), services[name], name)
            # One worker answering is not all of them: each finishes its own start-up (and until
            # then takes no connection), so wait until every one has said so.
            _wait_for(partial(_workers_started, services[name], api_workers), services[name], f"{name}'s workers")
        yield Stack(stage, app_urls, mail, env, services, payments)


# The supervisor pings each worker every half second and kills one that has not answered
# within this many seconds (uvicorn's default is 5), then starts another. On a busy machine
# (a CI runner, a laptop running the tests on every core) a worker importing the app can be
# starved that long: killed and replaced, it would drop the connections it had accepted.
WORKER_HEALTHCHECK_SECONDS = 30


def _start_app(
    name: str,
    stage: Stage,
    host: str,
    port: int,
    workers: int,
    env: dict[str, str],
    echo: Callable[[str], None] | None,
) -> Service:
    """One API process: the stage under uvicorn on `port`, serving it itself or through `workers` children.

    With workers, uvicorn's own supervisor spawns them and keeps them running: it starts a
    new one when one dies, restarts them all one by one on SIGHUP, and adds or removes
    one on SIGTTIN or SIGTTOU (gunicorn's signals, without gunicorn).
    """
    app_command = [
        sys.executable, "-m", "uvicorn", stage.app, "--host", host, "--port", str(port), "--log-level", "info",
        *server_arguments(), *proxy_arguments(stage.app, env), *shutdown_arguments(stage.app, env),
        *(["--workers", str(workers), "--timeout-worker-healthcheck", str(WORKER_HEALTHCHECK_SECONDS)]
          if workers > 1 else []),
    ]  # fmt: skip
    service = _start(name, app_command, env, echo)
    grace = shutdown_grace(stage.app, env)
    if grace is not None:  # SIGKILL only after uvicorn's own wait for the requests in flight is over
        service.grace = grace + 5
    return service

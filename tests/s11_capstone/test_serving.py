"""The stage served as in production: several uvicorn worker processes behind one port, the Celery worker and
beat, started and stopped by one command.

`make serve LESSON=11 API_WORKERS=2` runs on the embedded defaults (a SQLite file and the embedded broker,
which every process shares). `make serve-prod` needs PostgreSQL and Redis (--services), and for its RabbitMQ
broker the server the services tier uses (WORKBOOK_TEST_BROKER_URL). Each test starts the command as a learner
would, in a process group of its own, and ends it with Ctrl-C (SIGINT).

Which worker served a request is read from the kernel (workbook/processes.py): each request goes over a new
connection, kept open while psutil asks every uvicorn worker which connections it holds.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import psutil
import pytest

from workbook.doctor import service_urls
from workbook.mail_server import messages, read_message
from workbook.processes import pids_serving, uvicorn_workers
from workbook.serving import free_port
from workbook.stages import ROOT

from ..auth_helpers import ADA
from ..stack_tiers import postgres_database

RABBITMQ = os.environ.get("WORKBOOK_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
READY_LINE = "Ctrl-C stops everything"


@dataclass
class Served:
    """A `python -m workbook serve...` process, its output collected line by line."""

    process: subprocess.Popen
    port: int
    lines: list[str] = field(default_factory=list)

    def collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_until_ready(self, timeout: float = 150) -> None:
        deadline = time.monotonic() + timeout
        while not any(line.startswith(READY_LINE) for line in self.lines):
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the stack did not start:\n" + "\n".join(self.lines[-30:]))
            time.sleep(0.2)

    def uvicorn_workers(self) -> list[psutil.Process]:
        """uvicorn's worker processes: the children its supervisor spawned to serve."""
        [supervisor] = [p for p in psutil.Process(self.process.pid).children() if "uvicorn" in p.cmdline()]
        return uvicorn_workers(supervisor.pid)

    def pids_serving(self, wanted: int) -> dict[int, int]:
        """Requests over new connections until `wanted` workers have served: how many each served, by PID."""
        return pids_serving("127.0.0.1", self.port, self.uvicorn_workers(), wanted)

    def announced_worker_pids(self) -> set[int]:
        """The PIDs uvicorn's workers announced in their log: "Started server process [1234]"."""
        found = (re.search(r"Started server process \[(\d+)\]", line) for line in self.lines)
        return {int(match.group(1)) for match in found if match}


@contextmanager
def serving(arguments: list[str], env: dict[str, str], mailbox: Path) -> Iterator[Served]:
    """The command in a process group of its own, as a shell starts it; killed with its group if a test fails."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "workbook", *arguments, "--port", str(port), "--mailbox", str(mailbox)],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        process_group=0,
    )  # fmt: skip
    served = Served(process, port)
    reading = threading.Thread(target=served.collect, daemon=True)
    reading.start()
    try:
        yield served
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        reading.join(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


def register_and_receive_welcome(served: Served, mailbox: Path) -> None:
    """A registration, answered at once (202); its welcome email sent by the Celery worker, received over SMTP."""
    email = ADA["email"]
    response = httpx2.post(
        f"http://127.0.0.1:{served.port}/users/register", json=ADA, headers={"X-Tenant-ID": "acme"}, timeout=10
    )
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + 60
    while email not in [read_message(path)["To"] for path in messages(mailbox)]:
        assert time.monotonic() < deadline, "no welcome email within 60 s:\n" + "\n".join(served.lines[-30:])
        time.sleep(0.1)


def stop_with_ctrl_c(served: Served) -> None:
    """SIGINT, as Ctrl-C sends it: the command ends cleanly and no process it started is left."""
    everything = psutil.Process(served.process.pid).children(recursive=True)
    served.process.send_signal(signal.SIGINT)
    served.process.wait(timeout=90)
    assert served.process.returncode == 0, "\n".join(served.lines[-30:])
    _, alive = psutil.wait_procs(everything, timeout=10)
    assert alive == [], f"still running after Ctrl-C: {[p.cmdline() for p in alive]}"


def test_make_serve_runs_the_stage_on_the_embedded_defaults_with_two_api_worker_processes(tmp_path):
    with serving(["serve", "11", "--workers", "2"], {}, tmp_path) as served:
        served.wait_until_ready()
        workers = served.uvicorn_workers()
        assert len(workers) == 2, f"two uvicorn workers under its supervisor: {workers}"
        assert {w.pid for w in workers} == served.announced_worker_pids(), "the log names the same two processes"
        counts = served.pids_serving(wanted=2)
        assert len(counts) == 2, f"both workers served requests over new connections: {counts}"
        register_and_receive_welcome(served, tmp_path)
        stop_with_ctrl_c(served)


@contextmanager
def production_services(broker: str) -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database, the test Redis emptied around the run, and the broker's settings."""
    import redis

    redis_url = service_urls()[1]
    env = {"WORKBOOK_REDIS_URL": redis_url}
    if broker == "rabbitmq":
        env["WORKBOOK_BROKER_URL"] = RABBITMQ
    server = redis.Redis.from_url(redis_url)
    server.flushdb()
    try:
        with postgres_database() as database_url:
            if broker == "rabbitmq":
                purge_celery_queue()  # no task left by another run is handed to this run's worker
            yield {**env, "WORKBOOK_DATABASE_URL": database_url}
    finally:
        if broker == "rabbitmq":
            purge_celery_queue()
        server.flushdb()
        server.close()


def purge_celery_queue() -> None:
    from kombu import Connection

    with Connection(RABBITMQ, connect_timeout=5) as connection:
        channel = connection.default_channel
        channel.queue_declare("celery", durable=True, auto_delete=False)  # as Celery declares it
        channel.queue_purge("celery")


@pytest.mark.services
@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
def test_serve_prod_serves_through_several_workers_and_the_worker_mails_through_the_broker(broker, services, tmp_path):
    if not services:
        pytest.skip("PostgreSQL, Redis and RabbitMQ (make test-services)")
    with (
        production_services(broker) as env,
        serving(["serve-prod", "11", "--workers", "3", "--broker", broker], env, tmp_path) as served,
    ):
        served.wait_until_ready()
        scheme = "amqp" if broker == "rabbitmq" else "redis"
        assert any(f"Connected to {scheme}://" in line for line in served.lines), "the Celery worker's broker"
        workers = served.uvicorn_workers()
        assert len(workers) == 3, f"three uvicorn workers under its supervisor: {workers}"
        assert {w.pid for w in workers} == served.announced_worker_pids(), "the log names the same three processes"
        counts = served.pids_serving(wanted=3)
        assert len(counts) >= 2, f"more than one worker served requests over new connections: {counts}"
        ready = httpx2.get(f"http://127.0.0.1:{served.port}/health/ready", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["broker"]["status"] == "ok"
        register_and_receive_welcome(served, tmp_path)
        stop_with_ctrl_c(served)

"""The tooling behind `make serve` for stages with a Celery worker: broker, mail server, the stack."""

import os
import signal
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import httpx2
import psutil
import pytest
import redis

from workbook import cli
from workbook.broker import embedded_broker
from workbook.mail_server import MailServer, messages, read_message, show
from workbook.serving import free_port
from workbook.stack import has_worker
from workbook.stages import ROOT, get_stage, load_stages


def test_the_embedded_broker_runs_the_lock_scripts_a_worker_sends():
    with embedded_broker() as url:
        client = redis.Redis.from_url(url)
        lock = client.lock("unacked_mutex", timeout=5)
        assert lock.acquire(blocking=False)
        assert not client.lock("unacked_mutex", timeout=5).acquire(blocking=False), "held by the first lock"
        lock.release()  # redis-py releases with a Lua script (EVALSHA)
        assert client.get("unacked_mutex") is None
        client.close()


def test_the_embedded_broker_runs_kombus_own_scripts():
    from kombu.transport.redis import REFRESH_BINDING

    with embedded_broker() as url:
        client = redis.Redis.from_url(url)
        refresh = client.register_script(REFRESH_BINDING)
        refresh(keys=["bindings", "expiry"], args=["queue", "exchange", 60_000])
        assert client.smembers("bindings") == {b"queue"}
        assert client.zscore("expiry", "exchange") > 0, "the binding's expiry time is recorded"
        client.close()


def test_a_celery_round_trip_through_the_embedded_broker_needs_a_real_worker(tmp_path):
    """Smoke test of the transport: a worker process on the embedded broker runs a task and stores its result."""
    from celery import Celery

    with embedded_broker() as url:
        stage = get_stage("04")
        env = {**os.environ, "WORKBOOK_BROKER_URL": f"{url}/1", "WORKBOOK_RESULT_BACKEND": f"{url}/2"}
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", f"lessons.{stage.package}.worker", "worker", "--pool=solo"],
            cwd=ROOT, env={**env, "WORKBOOK_DATABASE_URL": f"sqlite:///{tmp_path}/shop.db"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            client = Celery(broker=f"{url}/1", backend=f"{url}/2")
            result = client.send_task(f"lessons.{stage.package}.tasks.send_welcome_email", args=["acme", 404])
            assert result.get(timeout=30) == {"outcome": "no such user", "user_id": 404}
        finally:
            worker.terminate()
            worker.wait(timeout=30)


def test_the_mail_server_keeps_each_message_and_says_so(tmp_path):
    heard: list[str] = []
    with MailServer(tmp_path, announce=heard.append) as server:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "shop@example.com", "ada@example.com", "Hello"
        message.set_content("Hi Ada")
        with smtplib.SMTP("127.0.0.1", server.port, timeout=5) as smtp:
            smtp.send_message(message)
    [path] = messages(tmp_path)
    assert read_message(path)["Subject"] == "Hello"
    assert "Hi Ada" in show(path)
    assert heard == [f"mail: to ada@example.com: 'Hello' saved as {path.name}"]


def test_the_mail_server_can_go_down_and_come_back_on_its_port(tmp_path):
    server = MailServer(tmp_path, announce=lambda line: None).start()
    server.stop()
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP("127.0.0.1", server.port, timeout=5)
    server.start()
    with smtplib.SMTP("127.0.0.1", server.port, timeout=5) as smtp:
        assert smtp.noop()[0] == 250
    server.stop()


def test_make_mail_lists_and_shows_the_newest(tmp_path, capsys):
    with MailServer(tmp_path, announce=lambda line: None) as server:
        for subject in ("First", "Second"):
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = "shop@example.com", "ada@example.com", subject
            message.set_content(f"{subject} body")
            with smtplib.SMTP("127.0.0.1", server.port, timeout=5) as smtp:
                smtp.send_message(message)
    assert cli.main(["mail", "--mailbox", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "'First'" in out and "'Second'" in out and "Second body" in out and "First body" not in out
    assert cli.main(["mail", "1", "--mailbox", str(tmp_path)]) == 0
    assert "First body" in capsys.readouterr().out


def test_the_stages_with_a_worker_are_found_by_their_worker_py():
    with_worker = {stage.number for stage in load_stages() if has_worker(stage)}
    assert "04" in with_worker
    assert not with_worker & {"00", "01", "02"}


def descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


@contextmanager
def serving_stage_04(port: int, mailbox: Path) -> Iterator[subprocess.Popen]:
    """`python -m workbook serve 04`, its output on a text pipe. However the test ends, a
    supervisor still running is killed with its whole process group, so no stack outlives it."""
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "workbook", "serve", "04", "--port", str(port), "--mailbox", str(mailbox)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # a terminal of its own, as a learner's shell would give it
    )  # fmt: skip
    try:
        yield supervisor
    finally:
        if supervisor.poll() is None:
            os.killpg(supervisor.pid, signal.SIGKILL)
            supervisor.wait()
        supervisor.stdout.close()


def test_serve_starts_the_whole_stack_and_ctrl_c_leaves_no_process_behind(tmp_path):
    port = free_port()
    with serving_stage_04(port, tmp_path) as supervisor:
        lines: list[str] = []
        for line in supervisor.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C stops everything"):
                break
        assert any(f"http://127.0.0.1:{port}/docs" in line for line in lines), "".join(lines)
        assert any(str(tmp_path) in line for line in lines), "it says where the mail goes"
        children = descendants(supervisor.pid)
        commands = [" ".join(child.cmdline()) for child in children]
        assert any("uvicorn" in c for c in commands) and any("celery" in c for c in commands), commands
        assert len(children) >= 3, "uvicorn, the celery main process and its pool child"

        response = httpx2.post(
            f"http://127.0.0.1:{port}/users/register",
            json={"email": "ada@example.com", "name": "Ada"},
            headers={"X-Tenant-ID": "acme"},
        )
        assert response.status_code == 201
        deadline = time.monotonic() + 20
        while not messages(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [read_message(path)["To"] for path in messages(tmp_path)] == ["ada@example.com"]

        supervisor.send_signal(signal.SIGINT)  # what Ctrl-C sends
        rest = supervisor.communicate(timeout=30)[0]
        assert supervisor.returncode == 0, rest
        assert "Stopped" in rest
        _, alive = psutil.wait_procs(children, timeout=5)
        assert alive == [], f"still running after Ctrl-C: {alive}"


@pytest.mark.skipif(sys.platform != "linux", reason="children follow their parent out through prctl, on Linux")
def test_a_supervisor_killed_outright_takes_its_processes_with_it(tmp_path):
    with serving_stage_04(free_port(), tmp_path) as supervisor:
        for line in supervisor.stdout:
            if line.startswith("Ctrl-C stops everything"):
                break
        children = descendants(supervisor.pid)
        assert len(children) >= 3
        supervisor.kill()  # SIGKILL: no clean-up code of the supervisor runs
        supervisor.wait(timeout=10)
        _, alive = psutil.wait_procs(children, timeout=20)
        assert alive == [], f"orphans left behind: {alive}"

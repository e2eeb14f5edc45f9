"""A shutdown under load, measured: SIGTERM to a stage's server while payments are in flight.

`shutdown_drill(stage)` serves the stage under uvicorn in a process of its own,
with the fake payment provider (workbook/payment_provider.py) behind it. It logs in
as the demo admin and puts `requests` payments in flight. The provider makes each
charge and holds its answer back; once it holds every one, the drill sends the
signal and lets the answers go `work` seconds later. So the work still to do at the
signal is `work` seconds, however slowly a busy machine got the payments there.
Meanwhile it keeps opening new connections, until the process has exited, and counts:

- in flight: payments the provider was working on when the signal went;
- succeeded: of those, answered 201; failed: answered with an error status;
  dropped: their connection closed with no answer at all;
- lost: in flight but not answered with success (every one of those cards was
  charged all the same: the provider records a charge before it answers);
- refused / answered after the signal: the new connections;
- shutdown seconds: from the signal to the process's exit.

uvicorn's graceful shutdown: stop listening, let each request in flight finish,
run the lifespan's clean-up, exit. `grace` is its --timeout-graceful-shutdown; None
takes the stage's own setting (`shutdown_grace`, as `make serve` does). A grace
shorter than the work, or SIGKILL, is the pitfall the drill also measures.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx2

from workbook.payment_provider import PaymentProvider, payment_env
from workbook.serving import free_port, shutdown_arguments
from workbook.stages import ROOT, Stage

CARD = {"amount": 1250, "currency": "EUR", "card_token": "tok_visa_4242424242"}
ACME = {"X-Tenant-ID": "acme"}
ADMIN = {"username": "admin@acme.example", "password": "storefront-demo-admin"}


@dataclass(frozen=True)
class DrillResult:
    in_flight: int
    succeeded: int
    failed: int
    dropped: int
    charged: int  # charges the provider made: cards debited
    refused_after_signal: int
    answered_after_signal: int  # accepted in the moment before the server stopped listening
    shutdown_seconds: float
    # As subprocess reports it: -15 after SIGTERM even when all went well (uvicorn, once shut down,
    # raises the signal it caught again, so a supervisor sees the usual cause); -9 when killed.
    exit_code: int

    @property
    def lost(self) -> int:
        """Requests in flight at the signal that were not answered with success."""
        return self.in_flight - self.succeeded


async def shutdown_drill(
    stage: Stage,
    *,
    requests: int = 8,
    work: float = 1.0,
    grace: int | None = None,
    send: signal.Signals = signal.SIGTERM,
) -> DrillResult:
    """Serve `stage`, put `requests` payments in flight, `send` the signal, answer them `work` s later, count."""
    # As typed by hand (uvicorn ... --timeout-graceful-shutdown 1), or as `make serve` passes the setting.
    grace_arguments = shutdown_arguments(stage.app) if grace is None else ["--timeout-graceful-shutdown", str(grace)]
    with tempfile.TemporaryDirectory(prefix="workbook-drill-") as scratch:
        with PaymentProvider(Path(scratch) / "provider") as provider:
            process, url = _serve(stage, Path(scratch), provider, work, grace_arguments)
            try:
                result = await _drive(process, url, Path(scratch) / "app.log", provider, requests, work, send)
            finally:
                _stop(process)
    return result


async def _drive(
    process: subprocess.Popen,
    url: str,
    log: Path,
    provider: PaymentProvider,
    requests: int,
    work: float,
    send: signal.Signals,
) -> DrillResult:
    async with httpx2.AsyncClient(base_url=url, limits=httpx2.Limits(max_connections=requests + 1)) as client:
        await _wait_until_live(client, process, log)
        headers = {**ACME, "Authorization": f"Bearer {await _log_in(client)}"}
        provider.hold_answers()
        payments = [asyncio.create_task(_pay(client, headers, work)) for _ in range(requests)]
        in_flight = await _held_by_provider(provider, requests, payments)
        signalled = time.monotonic()
        process.send_signal(send)
        asyncio.get_running_loop().call_later(work, provider.release_answers)
        exited = asyncio.create_task(asyncio.to_thread(_wait_for_exit, process))
        refused, answered = await _knock_until(exited, url)
        shutdown_seconds = await exited - signalled
        answers = await asyncio.gather(*payments)
    statuses = [answer for answer in answers if answer is not None]
    return DrillResult(
        in_flight=in_flight,
        succeeded=sum(200 <= status < 300 for status in statuses),
        failed=sum(not 200 <= status < 300 for status in statuses),
        dropped=len(answers) - len(statuses),
        charged=provider.charges_made,
        refused_after_signal=refused,
        answered_after_signal=answered,
        shutdown_seconds=round(shutdown_seconds, 2),
        exit_code=process.returncode,
    )


def _serve(
    stage: Stage, scratch: Path, provider: PaymentProvider, work: float, grace_arguments: list[str]
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    # Only the drill's own settings: none of the caller's WORKBOOK_* (a test's database, say) leaks in.
    env = {name: value for name, value in os.environ.items() if not name.startswith("WORKBOOK_")}
    env |= payment_env(provider) | {
        "WORKBOOK_DATABASE_URL": f"sqlite:///{scratch}/storefront.db",
        "WORKBOOK_BCRYPT_ROUNDS": "4",  # the demo admin's log-in at bcrypt's lowest cost
        "WORKBOOK_PAYMENT_DEADLINE_SECONDS": str(work + 5),  # a held charge still succeeds
    }
    command = [
        sys.executable, "-m", "uvicorn", stage.app, "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--no-access-log", *grace_arguments,
    ]  # fmt: skip
    with open(scratch / "app.log", "w", encoding="utf-8") as log:
        # A process group of its own, so that _stop can end everything it started.
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, process_group=0)
    return process, f"http://127.0.0.1:{port}"


async def _wait_until_live(client: httpx2.AsyncClient, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if (await client.get("/health/live", timeout=1)).status_code == 200:
                return
        except httpx2.TransportError:
            pass  # not listening yet
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the app did not start:\n{log.read_text(encoding='utf-8')[-2000:]}")


async def _log_in(client: httpx2.AsyncClient) -> str:
    response = await client.post("/token", data=ADMIN, headers=ACME)
    response.raise_for_status()
    return response.json()["access_token"]


async def _pay(client: httpx2.AsyncClient, headers: dict[str, str], work: float) -> int | None:
    """The answer's status, or None when the connection closed without one."""
    key = {"Idempotency-Key": uuid.uuid4().hex}
    try:
        response = await client.post("/payments", json=CARD, headers=headers | key, timeout=work + 30)
    except httpx2.TransportError:
        return None
    return response.status_code


async def _held_by_provider(provider: PaymentProvider, requests: int, payments: list[asyncio.Task]) -> int:
    """Wait until the provider is working on every payment; how many it holds.

    Counted by the charges it recorded, not the calls it received: it records a charge
    once it has read the call's body, and only then holds the answer.
    """
    deadline = time.monotonic() + 30
    while provider.charges_made < requests:
        if time.monotonic() > deadline or all(payment.done() for payment in payments):
            raise RuntimeError(f"only {provider.charges_made} of {requests} payments reached the provider")
        await asyncio.sleep(0.01)
    return provider.charges_made


def _wait_for_exit(process: subprocess.Popen) -> float:
    """When the process exited (time.monotonic), waiting at most a minute."""
    process.wait(timeout=60)
    return time.monotonic()


async def _knock_until(exited: asyncio.Task, url: str) -> tuple[int, int]:
    """Open a new connection every 50 ms until the process has exited: how many were refused, and answered."""
    refused = answered = 0
    # No connection kept alive: each request opens a new one.
    async with httpx2.AsyncClient(
        base_url=url, timeout=2, limits=httpx2.Limits(max_keepalive_connections=0)
    ) as newcomers:
        while not exited.done():
            try:
                await newcomers.get("/health/live")
                answered += 1
            except httpx2.ConnectError:
                refused += 1
            except httpx2.TransportError:
                pass  # accepted, then closed unanswered: neither refused nor answered
            await asyncio.wait([exited], timeout=0.05)
    return refused, answered


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

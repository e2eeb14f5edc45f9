"""A restart of ONE API process under load, counted: SIGTERM fails no request; SIGKILL, the contrast.

The deployment is the one `make load LESSON=11` loads (workbook/load.py `deployed`):
uvicorn's supervisor and three worker processes sharing one listening socket, the
Celery worker and the payment provider. `restart_drill(stack, send)` keeps a steady
load on it, sends `send` to one worker process, and keeps the load going until the
supervisor's replacement serves. The load is three kinds of client, each from a
loopback address of its own and paced under the rate limit, so none is refused:

- kept-alive readers: GET /products/[sku], one connection each, reused;
- new-connection readers: the same GET, a new connection for every request;
- payers: POST /payments with an Idempotency-Key, one kept-alive connection each; the
  payment provider takes `charge_seconds` to answer, so payments are nearly always in flight.

Just before the signal the provider holds its answers until every payer has a charge
waiting for one, so the signal always meets payments in flight, whatever the machine's
timing; the answers go once the signal has gone (after SIGTERM: the stopping worker
waits for them) or the killed worker has exited (after SIGKILL).
The signal goes to a worker holding payers' connections (and then the most of the
load's), so the question is real: what happens to a payment in flight, and to a
client's connection, when the process at its other end stops? The drill watches the
processes (psutil): the old one exits, the supervisor notices (it looks at its
children every half second) and starts a new one, which imports the app and runs
its start-up; the replacement serves once it has accepted a connection of the load's.

What SIGTERM does to connections, read in uvicorn's Server.shutdown and measured
here: the worker stops accepting (the socket stays open in the other two, so a new
connection waits in the kernel's queue for one of them), lets every request in
flight finish with `Connection: close`, and closes at once every connection that
has no request in progress. An idle kept-alive connection closed that way costs a
careful client nothing: httpx2 checks an idle connection before reusing it, and one
the server closed reads as at its end, so it opens another. Two windows remain,
each an instant wide: a request sent on a kept-alive connection as the server
closes it (the two cross on the wire), and a new connection the stopping worker
had just accepted, whose request it had not yet read. Either way the connection
closes with no byte of an answer (ReadError, RemoteProtocolError), and the request
was never run. The windows are narrow on an idle machine and wide on a busy one:
there, drills met both, on kept-alive readers, new-connection readers and payers
alike (each kind's `retried`); run with `resend=False`, those requests fail.

No setting of the server closes those windows: HTTP/1.1 has no way to tell a client
"do not send on this connection" before closing it, and uvicorn's keep-alive and
graceful-shutdown timeouts only bound how long it waits for requests in flight. The
fix is the client's, as HTTP itself says (RFC 9110, 9.2.2) and browsers do: resend
an idempotent request once when its connection closed without an answer. A GET is
idempotent; a POST is made so by an Idempotency-Key (the API charges once per key),
which is why the payers send one and resend with the same key. The drill's clients
do that and count each resend (`retried`), so a race it meets shows up instead of
hiding; `resend=False` shows the failures a client without the retry would see.

SIGKILL, by contrast, ends the process with its requests: a payment it was charging
loses its connection with no answer; resent with the same key, it answers 409 (the
key is still in flight, as the killed worker left it), so the client cannot tell
whether the card was charged until the key's hold expires; idle connections are reset.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx2
import psutil

from workbook.stack import Stack

ACME = {"X-Tenant-ID": "acme"}
ADMIN = {"username": "admin@acme.example", "password": "storefront-demo-admin", "client_id": "acme"}
SKU = "MUG-001"
CARD = {"amount": 1250, "currency": "EUR", "card_token": "tok_visa_4242424242"}
# Answered without any byte of an answer: safe to resend an idempotent request once.
UNANSWERED = (httpx2.RemoteProtocolError, httpx2.ReadError, httpx2.WriteError)


@dataclass
class Tally:
    """What one kind of client saw."""

    requests: int = 0
    failed: int = 0
    retried: int = 0
    errors: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class RestartResult:
    signal: str
    old_pid: int
    new_pid: int
    connections_on_old: int  # connections of the load the signalled worker held (the kept-alive ones, mostly)
    payers_on_old: int  # of those, the payers': each with a payment in flight, held by the provider
    exit_seconds: float  # from the signal until the old worker had exited
    serving_seconds: float  # from the signal until its replacement accepted a connection of the load's
    tallies: dict[str, Tally]  # "kept-alive", "new connection", "payments"

    @property
    def requests(self) -> int:
        return sum(tally.requests for tally in self.tallies.values())

    @property
    def failed(self) -> int:
        return sum(tally.failed for tally in self.tallies.values())

    @property
    def retried(self) -> int:
        return sum(tally.retried for tally in self.tallies.values())

    def summary(self) -> str:
        lines = [
            f"{self.signal} to worker {self.old_pid}: exited after {self.exit_seconds:.2f} s; its replacement"
            f" {self.new_pid} served {self.serving_seconds:.2f} s after the signal",
            f"  {self.requests} requests, {self.failed} failed, {self.retried} resent on a closed"
            f" connection ({self.connections_on_old} connections of the load were on the old worker,"
            f" {self.payers_on_old} of them payers')",
        ]
        for kind, tally in self.tallies.items():
            errors = ", ".join(f"{error} ×{count}" for error, count in tally.errors.items())
            lines.append(
                f"  {kind:<15} {tally.requests:>5} requests {tally.failed:>3} failed {tally.retried:>3} resent {errors}"
            )
        return "\n".join(lines)


def workers(supervisor: int) -> list[int]:
    """The worker processes of uvicorn's supervisor: its children started by multiprocessing's spawn."""
    found = []
    for child in psutil.Process(supervisor).children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(child.cmdline()):
                found.append(child.pid)
        except psutil.NoSuchProcess:
            continue
    return found


def _connections_on(pid: int, port: int, peers: set[str] | None = None) -> int:
    """How many established connections to `port` process `pid` holds (0 once it is gone), from `peers` if given."""
    try:
        connections = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.NoSuchProcess:
        return 0
    return sum(
        c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port and (peers is None or c.raddr.ip in peers)
        for c in connections
    )


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


class Load:
    """The drill's clients, running until `stop` is set; each paced at `per_second` requests."""

    def __init__(self, url: str, token: str, per_second: float, resend: bool) -> None:
        self.url = url
        self.resend = resend
        self.headers = {**ACME, "Authorization": f"Bearer {token}"}
        self.period = 1 / per_second
        self.stop = asyncio.Event()
        self.tallies = {"kept-alive": Tally(), "new connection": Tally(), "payments": Tally()}
        self.addresses = (f"127.0.2.{host}" for host in itertools.count(1))
        self.last_address = ""
        self.payers: set[str] = set()  # their addresses
        self.kept_alive: set[str] = set()  # the addresses of every client that keeps its connection

    def client(self, keep_alive: bool, timeout: float = 30) -> httpx2.AsyncClient:
        self.last_address = next(self.addresses)
        if keep_alive:
            self.kept_alive.add(self.last_address)
        transport = httpx2.AsyncHTTPTransport(
            local_address=self.last_address,  # a client of its own to the rate limiter
            limits=httpx2.Limits(max_keepalive_connections=1 if keep_alive else 0),
        )
        return httpx2.AsyncClient(base_url=self.url, transport=transport, headers=self.headers, timeout=timeout)

    async def read(self, keep_alive: bool) -> None:
        tally = self.tallies["kept-alive" if keep_alive else "new connection"]
        async with self.client(keep_alive) as client:
            await self._paced(lambda: self._send(client, tally, "GET", f"/products/{SKU}"), tally)

    async def pay(self) -> None:
        tally = self.tallies["payments"]
        async with self.client(keep_alive=True) as client:
            self.payers.add(self.last_address)

            def payment() -> Awaitable[str | None]:
                # One key per payment, kept when it is resent: the API charges the card once per key.
                key = {"Idempotency-Key": uuid.uuid4().hex}
                return self._send(client, tally, "POST", "/payments", json=CARD, headers=key)

            await self._paced(payment, tally)

    async def _paced(self, call: Callable[[], Awaitable[str | None]], tally: Tally) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while not self.stop.is_set():
            error = await call()
            tally.requests += 1
            if error is not None:
                tally.failed += 1
                tally.errors[error] += 1
            due += self.period
            await asyncio.sleep(max(0.0, due - loop.time()))

    async def _send(self, client: httpx2.AsyncClient, tally: Tally, method: str, path: str, **options) -> str | None:
        """None when answered with success; else what went wrong. Resent once if the connection closed unanswered."""
        for attempt in (1, 2):
            try:
                response = await client.request(method, path, **options)
            except UNANSWERED as error:
                if attempt == 1 and self.resend:
                    tally.retried += 1
                    continue
                return type(error).__name__
            except httpx2.TransportError as error:
                return type(error).__name__
            return None if response.is_success else f"HTTP {response.status_code}"
        raise AssertionError("unreachable: the second attempt returns")


async def _prepare(url: str) -> str:
    """The demo admin's token."""
    async with httpx2.AsyncClient(base_url=url, headers=ACME, timeout=30) as admin:
        answer = await admin.post("/token", data=ADMIN)
        answer.raise_for_status()
        return answer.json()["access_token"]


async def _until(check, what: str, timeout: float = 90) -> float:
    """Poll `check` every 10 ms; the time.monotonic() when it first held."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen within {timeout} s")
        await asyncio.sleep(0.01)
    return time.monotonic()


async def restart_drill(
    stack: Stack,
    send: signal.Signals = signal.SIGTERM,
    *,
    readers: int = 4,
    payers: int = 2,
    per_second: float = 8,
    charge_seconds: float = 0.3,
    settle_seconds: float = 0.5,
    resend: bool = True,
) -> RestartResult:
    """Load `stack`, send `send` to one API worker, keep the load on until its replacement serves, count.

    `readers` of each kind and `payers`, each at most `per_second` requests (under the stack's rate limit);
    the load runs `settle_seconds` before the signal and again after the replacement serves. Without
    `resend`, a request whose connection closed unanswered is not sent again: it fails.
    """
    supervisor = stack.services["app"].process.pid
    port = int(stack.app_url.rsplit(":", 1)[1])
    token = await _prepare(stack.app_url)
    if stack.payments is not None:
        stack.payments.latency = charge_seconds  # payments in flight whenever the signal goes
    load = Load(stack.app_url, token, per_second, resend)
    clients = [
        *(load.read(keep_alive=True) for _ in range(readers)),
        *(load.read(keep_alive=False) for _ in range(readers)),
        *(load.pay() for _ in range(payers)),
    ]
    running = [asyncio.create_task(client) for client in clients]
    try:
        await asyncio.sleep(settle_seconds)
        before = workers(supervisor)
        # Every kept-alive client's connection open: a connection of each kept-alive reader and payer.
        await _until(
            lambda: sum(_connections_on(pid, port, load.kept_alive) for pid in before) >= readers + payers,
            "the load's kept-alive connections",
        )
        if stack.payments is not None:  # every payer's payment in flight when the signal goes
            stack.payments.hold_answers()
            await _until(lambda: stack.payments.answers_held >= payers, "a charge of every payer's, held")
        # The worker with payments in flight (and then the most connections): the signal meets work under way.
        old = max(before, key=lambda pid: (_connections_on(pid, port, load.payers), _connections_on(pid, port)))
        connections_on_old = _connections_on(old, port)
        payers_on_old = _connections_on(old, port, load.payers)
        signalled = time.monotonic()
        os.kill(old, send)
        if send != signal.SIGKILL:
            _release(stack)  # a stopping worker waits for the answers to the payments it holds
        exited = await _until(lambda: _gone(old), f"worker {old}'s exit")
        _release(stack)  # after SIGKILL, only now: the killed worker's payments were cut unanswered
        try:
            new = await _new_worker(supervisor, before)
        except RuntimeError as error:  # what uvicorn's supervisor said tells why (a worker that failed to start)
            said = "\n".join(line for line in stack.lines("app")[-40:] if not line.startswith("{"))
            raise RuntimeError(f"{error}; the supervisor said:\n{said}") from error
        serving = await _until(lambda: _connections_on(new, port) > 0, f"worker {new} serving")
        await asyncio.sleep(settle_seconds)
    finally:
        _release(stack)
        load.stop.set()
        await asyncio.gather(*running)
        if stack.payments is not None:
            stack.payments.latency = 0
    return RestartResult(
        signal=send.name,
        old_pid=old,
        new_pid=new,
        connections_on_old=connections_on_old,
        payers_on_old=payers_on_old,
        exit_seconds=exited - signalled,
        serving_seconds=serving - signalled,
        tallies=load.tallies,
    )


def _release(stack: Stack) -> None:
    if stack.payments is not None:
        stack.payments.release_answers()


async def _new_worker(supervisor: int, before: list[int]) -> int:
    """The worker the supervisor started in place of one of `before`."""
    started: list[int] = []

    def replaced() -> bool:
        started[:] = [pid for pid in workers(supervisor) if pid not in before]
        return bool(started)

    await _until(replaced, "the supervisor's replacement")
    return started[0]

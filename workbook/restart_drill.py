"""A restart of ONE API process under load, counted: SIGTERM fails no request; SIGKILL, the contrast.

The deployment is the one `make load LESSON=11` loads (workbook/load.py `deployed`):
uvicorn's supervisor and three worker processes sharing one listening socket, the
Celery worker and the payment provider. `restart_drill(stack, send)` keeps a steady
load on it, sends `send` to one worker process, and keeps the load going until the
supervisor's replacement serves. The load is three kinds of client, each from a
loopback address of its own and paced under the rate limit, so none is refused:

- kept-alive readers: GET /products/[sku], one connection each, reused;
- new-connection readers: the same GET, a new connection for every request;
- buyers: POST /orders, each charging a card at the payment provider, which takes
  `charge_seconds` to answer, so orders are always in flight when the signal goes.

The signal goes to the worker holding the most kept-alive connections of the load,
so the question the drill asks is real: what happens to a client's idle connection
when the process at its other end stops? Then the drill watches the processes
(psutil): the old one exits, the supervisor notices (it checks its children every
half second) and starts a new one, which imports the app and runs its start-up;
the replacement serves once it has accepted a connection of the load's, and every
request after the signal was answered or counted as failed.

After SIGTERM, uvicorn stops accepting (the socket stays open in the other two, so a
new connection waits in the kernel's queue for one of them), lets every request in
flight finish with `Connection: close`, and closes its idle kept-alive connections.
A kept-alive client does not fail on such a connection: httpx2 (like any careful
client) checks an idle connection before reusing it, and one the server closed reads
as at its end, so it opens a new one. The window left is a request sent in the same
instant the server closes: the close and the request cross on the wire, and the
client sees the connection drop with no answer. That race is a client's to handle,
as browsers do: resend an idempotent request (a GET, or a POST carrying an
Idempotency-Key) once when a REUSED connection closed before any byte of an answer.
No server setting can close that window (a shorter keep-alive timeout only moves it).
The readers do that retry and count it (`retried`), so a race the drill hits shows
up instead of hiding; orders are never resent (POST /orders has no idempotency key).

SIGKILL, by contrast, ends the process with its requests: the orders it was waiting
on lose their connection with no answer (`failed`), though the database and the
provider may have done their part; its idle connections are reset.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx2
import psutil

from workbook.stack import Stack

ACME = {"X-Tenant-ID": "acme"}
ADMIN = {"username": "admin@acme.example", "password": "storefront-demo-admin", "client_id": "acme"}
SKU = "MUG-001"
ORDER = {"items": [{"sku": SKU, "quantity": 1}], "card_token": "tok_visa_4242424242"}
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
    kept_alive_on_old: int  # kept-alive connections of the load that the signalled worker held
    exit_seconds: float  # from the signal until the old worker had exited
    serving_seconds: float  # from the signal until its replacement accepted a connection of the load's
    tallies: dict[str, Tally]  # "kept-alive", "new connection", "orders"

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
            f"  {self.requests} requests, {self.failed} failed, {self.retried} resent on a closed kept-alive"
            f" connection ({self.kept_alive_on_old} kept-alive connections were on the old worker)",
        ]
        for kind, tally in self.tallies.items():
            errors = ", ".join(f"{error} ×{count}" for error, count in tally.errors.items())
            lines.append(f"  {kind:<15} {tally.requests:>5} requests {tally.failed:>3} failed {errors}")
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


def _connections_on(pid: int, port: int) -> int:
    """How many established connections to `port` process `pid` holds (0 once it is gone)."""
    try:
        connections = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.NoSuchProcess:
        return 0
    return sum(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port for c in connections)


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


class Load:
    """The drill's clients, running until `stop` is set; each paced at `per_second` requests."""

    def __init__(self, url: str, token: str, per_second: float) -> None:
        self.url = url
        self.headers = {**ACME, "Authorization": f"Bearer {token}"}
        self.period = 1 / per_second
        self.stop = asyncio.Event()
        self.tallies = {"kept-alive": Tally(), "new connection": Tally(), "orders": Tally()}
        self.addresses = (f"127.0.2.{host}" for host in itertools.count(1))

    def client(self, keep_alive: bool, timeout: float = 30) -> httpx2.AsyncClient:
        transport = httpx2.AsyncHTTPTransport(
            local_address=next(self.addresses),  # a client of its own to the rate limiter
            limits=httpx2.Limits(max_keepalive_connections=1 if keep_alive else 0),
        )
        return httpx2.AsyncClient(base_url=self.url, transport=transport, headers=self.headers, timeout=timeout)

    async def read(self, keep_alive: bool) -> None:
        tally = self.tallies["kept-alive" if keep_alive else "new connection"]
        async with self.client(keep_alive) as client:
            await self._paced(lambda: self._get(client, tally), tally)

    async def buy(self) -> None:
        async with self.client(keep_alive=True) as client:
            tally = self.tallies["orders"]
            await self._paced(lambda: self._order(client), tally)

    async def _paced(self, call, tally: Tally) -> None:
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

    async def _get(self, client: httpx2.AsyncClient, tally: Tally) -> str | None:
        """None when answered 200; else what went wrong. Resent once if unanswered on a reused connection."""
        for attempt in (1, 2):
            try:
                response = await client.get(f"/products/{SKU}")
            except UNANSWERED as error:
                if attempt == 1:
                    tally.retried += 1
                    continue
                return type(error).__name__
            except httpx2.TransportError as error:
                return type(error).__name__
            return None if response.status_code == 200 else f"HTTP {response.status_code}"
        return None  # not reached: the second attempt returns

    async def _order(self, client: httpx2.AsyncClient) -> str | None:
        try:
            response = await client.post("/orders", json=ORDER)
        except httpx2.TransportError as error:
            return type(error).__name__
        return None if response.status_code == 201 else f"HTTP {response.status_code}"


async def _prepare(url: str) -> str:
    """The admin's token, once the ordered product has stock for any drill."""
    async with httpx2.AsyncClient(base_url=url, headers=ACME, timeout=30) as admin:
        answer = await admin.post("/token", data=ADMIN)
        answer.raise_for_status()
        token = answer.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        product = (await admin.get(f"/products/{SKU}")).json()
        changes = {"name": product["name"], "price": product["price"], "stock": 1_000_000}
        (await admin.put(f"/admin/products/{SKU}", json=changes, headers=headers)).raise_for_status()
    return token


async def _until(check, what: str, timeout: float = 30) -> float:
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
    buyers: int = 2,
    per_second: float = 8,
    charge_seconds: float = 0.3,
    settle_seconds: float = 0.5,
) -> RestartResult:
    """Load `stack`, send `send` to one API worker, keep the load on until its replacement serves, count.

    `readers` of each kind and `buyers`, each at most `per_second` requests (under the stack's rate limit);
    the load runs `settle_seconds` before the signal and again after the replacement serves.
    """
    supervisor = stack.services["app"].process.pid
    port = int(stack.app_url.rsplit(":", 1)[1])
    token = await _prepare(stack.app_url)
    if stack.payments is not None:
        stack.payments.latency = charge_seconds  # orders in flight whenever the signal goes
    load = Load(stack.app_url, token, per_second)
    clients = [
        *(load.read(keep_alive=True) for _ in range(readers)),
        *(load.read(keep_alive=False) for _ in range(readers)),
        *(load.buy() for _ in range(buyers)),
    ]
    running = [asyncio.create_task(client) for client in clients]
    try:
        await asyncio.sleep(settle_seconds)  # every kept-alive connection open, each worker serving
        before = workers(supervisor)
        old = max(before, key=lambda pid: _connections_on(pid, port))
        kept_alive_on_old = _connections_on(old, port)
        signalled = time.monotonic()
        os.kill(old, send)
        exited = await _until(lambda: _gone(old), f"worker {old}'s exit")
        new = await _new_worker(supervisor, before)
        serving = await _until(lambda: _connections_on(new, port) > 0, f"worker {new} serving")
        await asyncio.sleep(settle_seconds)
    finally:
        load.stop.set()
        await asyncio.gather(*running)
        if stack.payments is not None:
            stack.payments.latency = 0
    return RestartResult(
        signal=send.name,
        old_pid=old,
        new_pid=new,
        kept_alive_on_old=kept_alive_on_old,
        exit_seconds=exited - signalled,
        serving_seconds=serving - signalled,
        tallies=load.tallies,
    )


async def _new_worker(supervisor: int, before: list[int]) -> int:
    """The worker the supervisor started in place of one of `before`."""
    started: list[int] = []

    def replaced() -> bool:
        started[:] = [pid for pid in workers(supervisor) if pid not in before]
        return bool(started)

    await _until(replaced, "the supervisor's replacement")
    return started[0]

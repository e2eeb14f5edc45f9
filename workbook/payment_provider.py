"""A fake card-payment provider for the workbook: a real HTTPS server on loopback.

It stands in for a service like Stripe, so that the stage's PaymentService has
something real to call: TLS with a certificate the app must be told to trust,
latency, failures, and idempotency keys. A small Starlette app served by uvicorn
(in a thread) with a certificate from a throw-away certificate authority made by
trustme; the authority's certificate is written to `ca.pem` in the provider's
folder, and the app trusts that file (WORKBOOK_HTTP_CA_FILE).

    POST /v1/charges   {"amount", "currency", "card_token"} with an Idempotency-Key
                       header: 201 and the charge; the same key again answers the
                       same charge (200) and charges nothing more
    GET  /v1/stats     how many charges it made, calls it answered and connections it accepted

`latency` (seconds before every answer) and `failure_rate` (the share of calls
that answer 503 and charge nothing) can be changed while it runs; `make serve`
reads them from PROVIDER_LATENCY_SECONDS and PROVIDER_FAILURE_RATE. A charge is
recorded BEFORE the latency, as a real provider commits before its answer
travels back: a client that gives up waiting has still been charged, and only
the idempotency key makes its retry safe. `hold_answers()` keeps every answer
back, after its charge, until `release_answers()`: a drill that must know the
work still to do (workbook/shutdown_drill.py) decides when it ends.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import trustme
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from workbook.serving import free_port
from workbook.stages import Stage


def has_payments(stage: Stage) -> bool:
    """A stage with payments.py calls the provider: `make serve` starts one for it."""
    return (stage.directory / "payments.py").is_file()


@dataclass
class Ledger:
    """What the provider remembers: each charge by its idempotency key, and the connections it saw."""

    charges: dict[str, dict] = field(default_factory=dict)
    # Each TCP connection comes from a port of its own on the client's side, so the
    # distinct (host, port) pairs seen are the connections opened, each with its own
    # TLS handshake. A kept-alive connection sends all its requests from one port.
    peers: set[tuple[str, int]] = field(default_factory=set)
    numbers: itertools.count = field(default_factory=lambda: itertools.count(1))
    calls: int = 0  # requests to charge, a retry with a known key included
    # The headers of each request to charge, in order: what a caller forwarded (its X-Correlation-ID, say).
    headers: list[dict[str, str]] = field(default_factory=list)

    def charge(self, key: str, amount: int, currency: str, card_token: str) -> tuple[dict, bool]:
        """The charge recorded under `key`, made now if there is none: (charge, made now?).

        No await between the look-up and the write: on the event loop, two calls with
        one key cannot both find it missing.
        """
        if key in self.charges:
            return self.charges[key], False
        charge = {
            "id": f"ch_{next(self.numbers):06d}",
            "amount": amount,
            "currency": currency,
            "card_last4": card_token[-4:],  # what a provider shows of a card, never the token itself
            "status": "succeeded",
        }
        self.charges[key] = charge
        return charge, True


def problem(status: int, error: str) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status)


class PaymentProvider:
    """The provider on https://127.0.0.1:`port`, its CA certificate in `folder`/ca.pem."""

    def __init__(self, folder: Path, port: int | None = None, latency: float = 0.0, failure_rate: float = 0.0) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.latency = latency
        self.failure_rate = failure_rate
        self.ledger = Ledger()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._certificates: tuple[Path, Path] | None = None
        self._answers_flow = threading.Event()
        self._answers_flow.set()
        self.answers_held = 0  # charges made and waiting for release_answers(); changed on the server's loop only
        self.app = Starlette(
            routes=[Route("/v1/charges", self.create_charge, methods=["POST"]), Route("/v1/stats", self.stats)]
        )

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> Path:
        return self.folder / "ca.pem"

    def trusted_by(self) -> ssl.SSLContext:
        """A client's TLS settings that trust this provider's authority: `httpx2.Client(verify=...)`."""
        return ssl.create_default_context(cafile=self.ca_file)

    @property
    def charges_made(self) -> int:
        return len(self.ledger.charges)

    @property
    def connections(self) -> int:
        return len(self.ledger.peers)

    def note_connection(self, request: Request) -> None:
        if request.client is not None:
            self.ledger.peers.add((request.client.host, request.client.port))

    async def create_charge(self, request: Request) -> JSONResponse:
        self.note_connection(request)
        self.ledger.calls += 1
        self.ledger.headers.append(dict(request.headers))
        key = request.headers.get("Idempotency-Key")
        try:
            body = await request.json()
            amount, currency, card_token = int(body["amount"]), str(body["currency"]), str(body["card_token"])
        except (ValueError, KeyError, TypeError):
            return problem(400, "invalid_request")
        if not key:
            return problem(400, "idempotency_key_required")
        if random.random() < self.failure_rate:
            await asyncio.sleep(self.latency)
            return problem(503, "provider_unavailable")
        charge, made_now = self.ledger.charge(key, amount, currency, card_token)
        await asyncio.sleep(self.latency)
        if not self._answers_flow.is_set():
            self.answers_held += 1
            try:
                await asyncio.to_thread(self._answers_flow.wait)
            finally:
                self.answers_held -= 1
        return JSONResponse(charge, status_code=201 if made_now else 200)

    async def stats(self, request: Request) -> JSONResponse:
        self.note_connection(request)
        return JSONResponse({"charges": self.charges_made, "calls": self.ledger.calls, "connections": self.connections})

    def hold_answers(self) -> None:
        """From now on, each charge is made but not answered until `release_answers()`."""
        self._answers_flow.clear()

    def release_answers(self) -> None:
        self._answers_flow.set()

    def reset(self) -> None:
        """Forget every charge and connection (the server keeps running)."""
        self.ledger = Ledger()

    def _write_certificates(self) -> tuple[Path, Path]:
        """A new CA, and a certificate it signs for the addresses the provider answers on.

        Made once per provider: stopped and started again, it keeps them, so a client
        that trusts its CA still trusts it.
        """
        if self._certificates is not None:
            return self._certificates
        self.folder.mkdir(parents=True, exist_ok=True)
        authority = trustme.CA()
        certificate = authority.issue_cert("127.0.0.1", "localhost")
        authority.cert_pem.write_to_path(self.ca_file)
        chain, key = self.folder / "server.pem", self.folder / "server.key"
        for index, blob in enumerate(certificate.cert_chain_pems):
            blob.write_to_path(chain, append=index > 0)
        certificate.private_key_pem.write_to_path(key)
        self._certificates = chain, key
        return chain, key

    def start(self) -> PaymentProvider:
        if self._server is not None:
            return self
        chain, key = self._write_certificates()
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning",
            ssl_certfile=str(chain), ssl_keyfile=str(key),
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="payment-provider", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the payment provider did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.release_answers()  # no answer left waiting in a thread
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> PaymentProvider:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def provider_from_environment(folder: Path) -> PaymentProvider:
    """The provider `make serve` starts: PROVIDER_LATENCY_SECONDS=2 PROVIDER_FAILURE_RATE=0.5 make serve LESSON=08."""
    return PaymentProvider(
        folder,
        latency=float(os.environ.get("PROVIDER_LATENCY_SECONDS", "0")),
        failure_rate=float(os.environ.get("PROVIDER_FAILURE_RATE", "0")),
    )


def payment_env(provider: PaymentProvider | None) -> dict[str, str]:
    """The app's settings for `provider`: where to charge, and the authority that signed its certificate."""
    if provider is None:
        return {}
    return {"WORKBOOK_PAYMENT_PROVIDER_URL": provider.url, "WORKBOOK_HTTP_CA_FILE": str(provider.ca_file)}

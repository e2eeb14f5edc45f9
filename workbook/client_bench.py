"""`make bench LESSON=08`: a new HTTP client per request against the app's one shared client.

For a stage with `payments.py`. Both variants charge through the stage's own
PaymentService and `create_http_client` (outbound.py), each against a fake HTTPS
payment provider of its own, so each provider counts the connections one variant
opened. The calls alternate between the variants, one at a time: whatever else the
machine is doing slows both alike, and the ratio stays honest. Notebook 08 prints
the same table by calling `measure` and `table` from here.
"""

from __future__ import annotations

import asyncio
import importlib
import statistics
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import structlog

from workbook.bench import ratio_text
from workbook.payment_provider import PaymentProvider
from workbook.stages import Stage

CALLS = 40  # charges per variant

PER_REQUEST = "a new client per request"
SHARED = "the app's shared client"


@dataclass(frozen=True)
class ClientMeasurement:
    variant: str
    calls: int
    median_seconds: float
    connections: int  # opened to the provider, each with its own TLS handshake


def stage_module(stage: Stage, name: str) -> ModuleType:
    return importlib.import_module(f"lessons.{stage.package}.{name}")


async def timed(work: Awaitable[object]) -> float:
    """The seconds `work` (a coroutine, not started yet) takes to run."""
    started = time.perf_counter()
    await work
    return time.perf_counter() - started


async def measure(stage: Stage, calls: int = CALLS) -> list[ClientMeasurement]:
    """Charge `calls` times each way, alternating; the median time per charge and the connections opened."""
    outbound, payments = stage_module(stage, "outbound"), stage_module(stage, "payments")
    settings_class = stage_module(stage, "settings").Settings
    # The service logs each charge; not wanted here. No processors: the stage's own (a logger
    # name, say) may expect a logger of the standard library's, which a ReturnLogger is not.
    quiet = structlog.wrap_logger(structlog.ReturnLogger(), processors=[])
    payment = payments.PaymentRequest(amount=1250, currency="EUR", card_token="tok_bench_4242")

    def service(client, settings):
        return payments.PaymentService(client, settings.payment_provider_url, 10.0, quiet)

    async def with_a_new_client(settings, key: str) -> None:
        # The pitfall: what `async with httpx2.AsyncClient(...) as client:` in a route does.
        async with outbound.create_http_client(settings) as client:
            await service(client, settings).charge(payment, key)

    with tempfile.TemporaryDirectory(prefix="workbook-bench-") as folder:
        with PaymentProvider(Path(folder, "a")) as fresh, PaymentProvider(Path(folder, "b")) as kept:
            fresh_settings, kept_settings = (
                settings_class(http_ca_file=provider.ca_file, payment_provider_url=provider.url)
                for provider in (fresh, kept)
            )
            seconds: dict[str, list[float]] = {PER_REQUEST: [], SHARED: []}
            async with outbound.create_http_client(kept_settings) as shared:
                for number in range(calls):
                    key = f"bench-{number}"
                    seconds[PER_REQUEST].append(await timed(with_a_new_client(fresh_settings, key)))
                    seconds[SHARED].append(await timed(service(shared, kept_settings).charge(payment, key)))
            return [
                ClientMeasurement(PER_REQUEST, calls, statistics.median(seconds[PER_REQUEST]), fresh.connections),
                ClientMeasurement(SHARED, calls, statistics.median(seconds[SHARED]), kept.connections),
            ]


def headline(rows: list[ClientMeasurement]) -> str:
    fresh, kept = (next(row for row in rows if row.variant == variant) for variant in (PER_REQUEST, SHARED))
    return (
        f"a new client per request took {ratio_text(fresh.median_seconds / kept.median_seconds)} as long per charge"
        f" as the shared client, and opened {fresh.connections} connections to its {kept.connections}"
    )


def table(rows: list[ClientMeasurement]) -> str:
    lines = [
        f"{rows[0].calls} charges each way, alternating, over HTTPS to the fake payment provider",
        f"  {'variant':<28} {'connections opened':>18}   median per charge",
    ]
    # The time comes last and unpadded: its width changes from run to run, and the
    # notebook's stored output is compared with the digits replaced.
    for row in rows:
        lines.append(f"  {row.variant:<28} {row.connections:>18}   {row.median_seconds * 1000:.2f} ms")
    lines += ["", headline(rows)]
    return "\n".join(lines)


def run(stage: Stage) -> list[ClientMeasurement]:
    return asyncio.run(measure(stage))

"""`make load LESSON=09`: a bounded Locust load test, its numbers read from Locust's own output.

The stage is served by uvicorn in a process of its own (the load generator then
competes with it only for the cores, not for one interpreter's lock), on a SQLite
file as `make serve` uses. Locust runs headless for a fixed number of users and
seconds and writes its statistics as CSV; `read_stats` reads them back. Nothing
here times a request itself: every figure reported is one Locust measured.

The stage's limits are lifted for the run, and the report says so: the rate limit
(100 requests a minute per client) would refuse almost every request from one
loopback address, the log-in budget (10 a minute) all but ten of the users'
log-ins, and the per-account throttle (login_throttling.py) counts each log-in in
flight as a possible wrong guess until its password is checked: more than five
users logging in to one account at once from one address would get 429. bcrypt's
cost drops to its minimum, so that the users' log-ins at the start do not drown
the reads that are being measured (stage 06 measures bcrypt).

A stage whose stage.toml has a `[load]` table with `api_workers = N` (stage 11) is
loaded as it is deployed instead: the whole stack (workbook/stack.py), its API
served by uvicorn's supervisor with N worker processes on one port, beside the
Celery worker and the payment provider, on a SQLite file and the embedded broker,
or with `services=True` on a fresh PostgreSQL database and the test Redis. There
the limits stay on: each Locust user connects from a loopback address of its own,
so the rate limit and the log-in throttles count it as one client, and paces itself
under the rate limit the run sets (`rate_limit`), which its locustfile reads too.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from workbook.service_tier import emptied_test_redis, postgres_database
from workbook.serving import uvicorn_process
from workbook.stack import Stack, running_stack
from workbook.stages import ROOT, Stage

# A run against the deployment keeps the rate limit, at an API client's budget rather than a
# browser's: 10 requests a second per client. Its users pace themselves under it.
RATE_LIMIT_PER_MINUTE = 600

LIFTED_LIMITS = {
    "WORKBOOK_RATE_LIMIT_PER_MINUTE": "1000000",
    "WORKBOOK_LOGIN_ATTEMPTS_PER_MINUTE": "1000000",
    "WORKBOOK_LOGIN_FAILURES_PER_CLIENT": "1000000",
    "WORKBOOK_BCRYPT_ROUNDS": "4",
}


def locustfile(stage: Stage) -> Path:
    return stage.directory / "load" / "locustfile.py"


def has_load_test(stage: Stage) -> bool:
    return locustfile(stage).is_file()


@dataclass(frozen=True)
class Row:
    """One row of Locust's stats CSV: a route (or "Aggregated", all of them), times in ms."""

    name: str
    requests: int
    failures: int
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass(frozen=True)
class LoadReport:
    users: int
    seconds: int
    total: Row  # Locust's "Aggregated" row
    routes: list[Row]
    failures: list[str]  # "GET /products: <error> ×3", from the failures CSV


def _number(text: str) -> float:
    # A route with no request has "N/A" for its percentiles.
    return float(text) if text not in ("", "N/A") else float("nan")


def _row(fields: dict[str, str]) -> Row:
    return Row(
        name=f"{fields['Type']} {fields['Name']}".strip(),
        requests=int(fields["Request Count"]),
        failures=int(fields["Failure Count"]),
        requests_per_second=_number(fields["Requests/s"]),
        p50_ms=_number(fields["50%"]),
        p95_ms=_number(fields["95%"]),
        p99_ms=_number(fields["99%"]),
    )


def read_stats(prefix: Path) -> tuple[Row, list[Row], list[str]]:
    """The Aggregated row, the per-route rows and the failures, from `<prefix>_stats.csv` and `_failures.csv`."""
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as stats:
        rows = [_row(fields) for fields in csv.DictReader(stats)]
    with open(f"{prefix}_failures.csv", newline="", encoding="utf-8") as failed:
        failures = [f"{f['Method']} {f['Name']}: {f['Error']} ×{f['Occurrences']}" for f in csv.DictReader(failed)]
    total = next(row for row in rows if row.name == "Aggregated")
    return total, [row for row in rows if row is not total], failures


@contextmanager
def served(stage: Stage, workdir: Path, env: dict[str, str]) -> Iterator[str]:
    """The stage under uvicorn in a process of its own, on a SQLite file; yields its URL."""
    env = {"WORKBOOK_DATABASE_URL": f"sqlite:///{workdir}/storefront.db", **env}
    # No access line: a log line per request would be load of its own.
    options = ["--log-level", "warning", "--no-access-log"]
    with uvicorn_process(stage.app, env, workdir / "app.log", options=options) as (url, _):
        yield url


def api_workers(stage: Stage) -> int | None:
    """The worker processes a stage is loaded with (its stage.toml's `[load] api_workers`), or None: one uvicorn."""
    data = tomllib.loads((stage.directory / "stage.toml").read_text(encoding="utf-8"))
    return data.get("load", {}).get("api_workers")


@contextmanager
def deployed(stage: Stage, workdir: Path, workers: int, env: dict[str, str], services: bool = False) -> Iterator[Stack]:
    """The stage's whole stack, its API as uvicorn's supervisor and `workers` processes; on SQLite and the
    embedded broker, or with `services` on a fresh PostgreSQL database and the test Redis (emptied around it)."""
    with ExitStack() as cleanup:
        redis_url = database_url = None
        if services:
            database_url = cleanup.enter_context(postgres_database())
            redis_url = cleanup.enter_context(emptied_test_redis())
        yield cleanup.enter_context(
            running_stack(
                stage,
                api_workers=workers,
                extra_env={"WORKBOOK_WORKERS": str(workers), **env},  # the pool arithmetic counts them all
                mailbox=workdir / "mailbox",
                redis_url=redis_url,
                database_url=database_url,
            )
        )


def run_locust(
    stage: Stage, url: str, workdir: Path, *, users: int, spawn_rate: int, seconds: int, env: dict[str, str]
) -> LoadReport:
    """Locust headless against `url` for `seconds` with `users`, started `spawn_rate` a second: what it measured.

    `env` is the run's settings, also in Locust's environment: a locustfile reads the rate limit it stays under.
    """
    command = [
        sys.executable, "-m", "locust", "-f", str(locustfile(stage)), "--host", url,
        "--headless", "--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", f"{seconds}s",
        "--csv", str(workdir / "stats"), "--only-summary", "--loglevel", "WARNING",
        "--stop-timeout", "2",  # each user finishes the request it is waiting for, then stops
    ]  # fmt: skip
    # Locust exits 1 when any request failed: the CSV says which, so it is read either way.
    done = subprocess.run(
        command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=seconds + 60
    )
    if not (workdir / "stats_stats.csv").exists():
        raise RuntimeError(f"Locust wrote no statistics (exit {done.returncode}):\n{done.stderr[-2000:]}")
    total, routes, failures = read_stats(workdir / "stats")
    return LoadReport(users, seconds, total, routes, failures)


def run(
    stage: Stage,
    *,
    users: int = 20,
    spawn_rate: int = 10,
    seconds: int = 8,
    env: dict[str, str] | None = None,
    services: bool = False,
    rate_limit: int = RATE_LIMIT_PER_MINUTE,
) -> LoadReport:
    """Serve the stage, run its locustfile headless for `seconds` with `users`, return what Locust measured.

    A stage loaded as deployed (`api_workers`) keeps its limits, the rate limit at `rate_limit` a minute
    per client; `services` puts it on PostgreSQL and Redis. Any other stage runs with its limits lifted.
    `env` is settings for the server on top of those (its users still pace themselves under `rate_limit`).
    """
    if not has_load_test(stage):
        raise LookupError(f"stage {stage.number} has no load test ({locustfile(stage).relative_to(ROOT)})")
    workers = api_workers(stage)
    with tempfile.TemporaryDirectory(prefix="workbook-load-") as scratch:
        workdir = Path(scratch)
        pace = {"users": users, "spawn_rate": spawn_rate, "seconds": seconds}
        if workers is None:
            settings = LIFTED_LIMITS | (env or {})
            with served(stage, workdir, settings) as url:
                return run_locust(stage, url, workdir, env=settings, **pace)
        # The users pace themselves under `rate_limit`; `env` may give the server other settings.
        settings = deployed_settings(rate_limit)
        with deployed(stage, workdir, workers, settings | (env or {}), services) as stack:
            return run_locust(stage, stack.app_url, workdir, env=settings, **pace)


def deployed_settings(rate_limit: int = RATE_LIMIT_PER_MINUTE) -> dict[str, str]:
    """The settings of a run against the deployment: the rate limit it keeps, bcrypt at its lowest cost."""
    return {"WORKBOOK_RATE_LIMIT_PER_MINUTE": str(rate_limit), "WORKBOOK_BCRYPT_ROUNDS": "4"}


def table(report: LoadReport) -> str:
    """Locust's figures as a table: one line per route, then all of them together."""
    lines = [f"{'route':<22} {'requests':>8} {'failed':>6} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7}"]
    for row in [*report.routes, report.total]:
        lines.append(
            f"{row.name:<22} {row.requests:>8} {row.failures:>6} {row.requests_per_second:>7.1f}"
            f" {row.p50_ms:>4.0f} ms {row.p95_ms:>4.0f} ms {row.p99_ms:>4.0f} ms"
        )
    lines.extend(f"failed: {failure}" for failure in report.failures)
    return "\n".join(lines)

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
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

from workbook.serving import free_port, proxy_arguments
from workbook.stages import ROOT, Stage

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
    """The stage under uvicorn, in its own process group; yields its URL, stops the group on exit."""
    port = free_port()
    env = {"WORKBOOK_DATABASE_URL": f"sqlite:///{workdir}/storefront.db", **env}
    command = [
        sys.executable, "-m", "uvicorn", stage.app, "--port", str(port), "--log-level", "warning",
        *proxy_arguments(stage.app, env),  # whose X-Forwarded-For to believe: the stage's trusted proxies
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with open(workdir / "app.log", "w+", encoding="utf-8") as log:
        process = subprocess.Popen(
            [*command, "--no-access-log"],  # a log line per request would be load of its own
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            process_group=0,  # stopped as a group: nothing is left behind
        )
        try:
            _wait_until_healthy(url, process, log)
            yield url
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_until_healthy(url: str, process: subprocess.Popen, log, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx2.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            raise RuntimeError(f"the app did not start on {url}:\n{log.read()[-2000:]}")
        time.sleep(0.1)


def run(
    stage: Stage, *, users: int = 20, spawn_rate: int = 10, seconds: int = 8, env: dict[str, str] | None = None
) -> LoadReport:
    """Serve the stage, run its locustfile headless for `seconds` with `users`, return what Locust measured."""
    if not has_load_test(stage):
        raise LookupError(f"stage {stage.number} has no load test ({locustfile(stage).relative_to(ROOT)})")
    with tempfile.TemporaryDirectory(prefix="workbook-load-") as scratch:
        workdir = Path(scratch)
        with served(stage, workdir, LIFTED_LIMITS | (env or {})) as url:
            command = [
                sys.executable, "-m", "locust", "-f", str(locustfile(stage)), "--host", url,
                "--headless", "--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", f"{seconds}s",
                "--csv", str(workdir / "stats"), "--only-summary", "--loglevel", "WARNING",
                "--stop-timeout", "2",  # each user finishes the request it is waiting for, then stops
            ]  # fmt: skip
            # Locust exits 1 when any request failed: the CSV says which, so it is read either way.
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 60)
        if not (workdir / "stats_stats.csv").exists():
            raise RuntimeError(f"Locust wrote no statistics (exit {done.returncode}):\n{done.stderr[-2000:]}")
        total, routes, failures = read_stats(workdir / "stats")
    return LoadReport(users, seconds, total, routes, failures)


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

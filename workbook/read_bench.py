"""`make bench LESSON=11`: the signed-in, cached product read against a bare FastAPI hello-world.

Both apps are served the same way: one uvicorn process each (uvloop and httptools,
uvicorn's own choice when they are installed), its log lines written to a file, as a
container runtime would take them. The load generator is wrk, a C program, with one
thread and CONNECTIONS connections; the table shows its own share of a core, so one
can see it was not the bottleneck. Each side is warmed up, then the sides take turns
for ROUNDS rounds of ROUND_SECONDS each: whatever else the machine is doing slows
both alike. The read is GET /products/{sku} with a Bearer access token of the demo
admin and X-Tenant-ID: token, denylist, user and token version, rate limit, tenant
and the product cache, every layer a real request goes through.

On the services (PostgreSQL and the Redis of WORKBOOK_TEST_DATABASE_URL and
WORKBOOK_TEST_REDIS_URL) when they answer, else on the embedded defaults (SQLite in
memory and the app's in-process fakeredis). It measures, it does not judge: the
table ends with the ratio, and nothing is asserted.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from workbook.doctor import service_urls
from workbook.service_tier import postgres_database
from workbook.serving import uvicorn_process
from workbook.stages import Stage

HELLO_APP = "workbook.hello_app:app"
CONNECTIONS = 32
ROUND_SECONDS = 5
ROUNDS = 2
WARM_UP_SECONDS = 1
TENANT = "acme"
SKU = "MUG-001"
HELLO = "bare FastAPI hello-world"
READ = "signed-in cached product read"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def has_read_bench(stage: Stage) -> bool:
    """A stage whose product read checks a caller's token (read_gate.py admits the reader)."""
    return (stage.directory / "read_gate.py").is_file()


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise FileNotFoundError("wrk is not installed: `apt-get install wrk` (Debian, Ubuntu) or `brew install wrk`")
    return found


@dataclass(frozen=True)
class Round:
    requests: int
    seconds: float
    failed: int  # non-2xx answers and socket errors
    load_cpu: float  # CPU seconds wrk used
    server_cpu: float  # CPU seconds the uvicorn process used


@dataclass
class Side:
    name: str
    rounds: list[Round] = field(default_factory=list)

    def _share(self, cpu: float) -> float:
        return cpu / sum(r.seconds for r in self.rounds)

    @property
    def rps(self) -> float:
        return sum(r.requests for r in self.rounds) / sum(r.seconds for r in self.rounds)

    @property
    def failed(self) -> int:
        return sum(r.failed for r in self.rounds)

    @property
    def load_share(self) -> float:
        """wrk's CPU time over the wall time: 1.0 is one core kept busy."""
        return self._share(sum(r.load_cpu for r in self.rounds))

    @property
    def server_share(self) -> float:
        return self._share(sum(r.server_cpu for r in self.rounds))

    @property
    def cpu_per_request(self) -> float:
        """Seconds of the server's CPU per answer: what a busy machine's sharing does not change."""
        return sum(r.server_cpu for r in self.rounds) / max(sum(r.requests for r in self.rounds), 1)


@dataclass(frozen=True)
class Served:
    url: str
    pid: int
    headers: dict[str, str]


@dataclass(frozen=True)
class Result:
    tier: str
    hello: Side
    read: Side

    @property
    def ratio(self) -> float:
        return self.read.rps / self.hello.rps

    @property
    def cpu_ratio(self) -> float:
        """The hello-world's CPU per answer over the read's: the ratio a core of its own would give each."""
        return self.hello.cpu_per_request / self.read.cpu_per_request


def _process_cpu(pid: int) -> float:
    """CPU seconds (user and system) the process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


def parse_wrk(output: str) -> tuple[int, float, int]:
    """Requests, seconds and failures from wrk's summary."""
    done = re.search(r"(\d+) requests in ([\d.]+)(m?s)", output)
    if done is None:
        raise RuntimeError(f"wrk did not report a count:\n{output}")
    seconds = float(done[2]) / (1000 if done[3] == "ms" else 1)
    failed = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|connect|read|write|timeout):? (\d+)", output))
    return int(done[1]), seconds, failed


def load(served: Served, seconds: int, connections: int = CONNECTIONS) -> Round:
    """wrk against the served app for `seconds`, with its CPU time and the server's."""
    headers = [arg for name, value in served.headers.items() for arg in ("-H", f"{name}: {value}")]
    command = [wrk_path(), "-t1", f"-c{connections}", f"-d{seconds}s", *headers, served.url]
    load_before, server_before = _children_cpu(), _process_cpu(served.pid)
    finished = subprocess.run(command, capture_output=True, text=True, check=True)
    load_cpu, server_cpu = _children_cpu() - load_before, _process_cpu(served.pid) - server_before
    requests, wall, failed = parse_wrk(finished.stdout)
    return Round(requests, wall, failed, load_cpu, server_cpu)


@contextmanager
def uvicorn(app: str, env: dict[str, str | None], log: Path) -> Iterator[tuple[str, int]]:
    """`app` in a uvicorn process of its own, logging at info; yields its base URL and pid."""
    ready = "/docs" if app == HELLO_APP else "/health"  # the hello-world has no /health
    with uvicorn_process(app, env, log, ready=ready, options=["--log-level", "info"]) as served:
        yield served


def services_answer() -> bool:
    """PostgreSQL and Redis of the test settings both answer, within a second each."""
    try:
        import psycopg
        import redis
        from sqlalchemy import make_url

        database, redis_url = service_urls()
        admin = make_url(database).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, connect_timeout=1):
            pass
        with redis.Redis.from_url(redis_url, socket_connect_timeout=1) as server:
            server.ping()
    except Exception:
        return False
    return True


def stage_env(cleanup: ExitStack, on_services: bool) -> dict[str, str | None]:
    # The limit stays on (every request is still counted in Redis), set above what wrk sends.
    env: dict[str, str | None] = {"WORKBOOK_RATE_LIMIT_PER_MINUTE": str(10**9)}
    if on_services:
        env["WORKBOOK_DATABASE_URL"] = cleanup.enter_context(postgres_database())
        env["WORKBOOK_REDIS_URL"] = service_urls()[1]
    else:  # the embedded defaults, whatever the shell may have set
        env["WORKBOOK_DATABASE_URL"] = "sqlite://"
        env["WORKBOOK_REDIS_URL"] = None
    return env


def access_token(stage: Stage, url: str) -> str:
    """Log in as the tenant's demo admin, as a client would."""
    import importlib

    settings = importlib.import_module(f"lessons.{stage.package}.settings").Settings()
    email = importlib.import_module(f"lessons.{stage.package}.demo_admins").demo_admin_email(TENANT)
    form = {"username": email, "password": settings.demo_admin_password.get_secret_value(), "client_id": TENANT}
    response = httpx2.post(f"{url}/token", data=form, timeout=30)
    response.raise_for_status()
    return response.json()["access_token"]


def measure(
    stage: Stage, on_services: bool | None = None, rounds: int = ROUNDS, seconds: int = ROUND_SECONDS
) -> Result:
    """Both apps served side by side, warmed up, then loaded in turns."""
    wrk_path()  # before anything starts: say at once if it is missing
    on_services = services_answer() if on_services is None else on_services
    with ExitStack() as cleanup:
        logs = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="workbook-bench-")))
        hello_url, hello_pid = cleanup.enter_context(uvicorn(HELLO_APP, {}, logs / "hello.log"))
        read_url, read_pid = cleanup.enter_context(
            uvicorn(stage.app, stage_env(cleanup, on_services), logs / "app.log")
        )
        token = access_token(stage, read_url)
        sides = {
            HELLO: Served(hello_url + "/", hello_pid, {}),
            READ: Served(
                f"{read_url}/products/{SKU}", read_pid, {"Authorization": f"Bearer {token}", "X-Tenant-ID": TENANT}
            ),
        }
        for served in sides.values():
            check = httpx2.get(served.url, headers=served.headers, timeout=10)
            check.raise_for_status()
            load(served, WARM_UP_SECONDS)
        measured = {name: Side(name) for name in sides}
        for _ in range(rounds):
            for name, served in sides.items():
                measured[name].rounds.append(load(served, seconds))
    tier = "services (PostgreSQL, Redis)" if on_services else "embedded defaults (SQLite, in-process fakeredis)"
    return Result(tier, measured[HELLO], measured[READ])


def table(result: Result) -> str:
    lines = [
        f"on the {result.tier}; one uvicorn process each, wrk -t1 -c{CONNECTIONS}",
        f"  {'':<32} {'requests/s':>10} {'failed':>7} {'server CPU':>10} {'µs CPU/req':>10} {'wrk CPU':>8}",
    ]
    for side in (result.hello, result.read):
        lines.append(
            f"  {side.name:<32} {side.rps:>10,.0f} {side.failed:>7} {side.server_share:>10.0%}"
            f" {side.cpu_per_request * 1e6:>10,.0f} {side.load_share:>8.0%}"
        )
    lines.append(f"the product read served {result.ratio:.2f} of the hello-world's requests per second")
    # Below 100 %, the server waited for a core: other work on the machine, not the app, set the pace.
    lines.append(
        f"per CPU second, it answered {result.cpu_ratio:.2f} as many (the ratio each would get on a core of its own)"
    )
    return "\n".join(lines)


def report(stage: Stage) -> str:
    return table(measure(stage))

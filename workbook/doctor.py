"""`make doctor`: is this machine ready for a workshop? Each check gives a verdict."""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from importlib import metadata
from urllib.parse import urlsplit

from workbook import lockfile

OK, WARN, FAIL = "ok", "warn", "FAIL"

# Where `make test-services` looks for the real services unless told otherwise.
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


@dataclass
class Verdict:
    level: str
    check: str
    detail: str


def service_urls() -> tuple[str, str]:
    return (
        os.environ.get("WORKBOOK_TEST_DATABASE_URL", DEFAULT_POSTGRES),
        os.environ.get("WORKBOOK_TEST_REDIS_URL", DEFAULT_REDIS),
    )


def python_version() -> Verdict:
    version = ".".join(map(str, sys.version_info[:3]))
    # ruff assumes the project's own minimum (3.11); this runs to tell users of older Pythons.
    if sys.version_info >= (3, 11):  # noqa: UP036
        return Verdict(OK, "Python", f"{version} at {sys.executable}")
    return Verdict(FAIL, "Python", f"{version} is too old: the workbook needs 3.11 or newer")


def pinned_packages() -> Verdict:
    """Every package the lock pins for this platform is installed at that version."""
    wrong = []
    wanted_here = [r for r in lockfile.pins() if not r.marker or r.marker.evaluate()]
    for requirement in wanted_here:
        wanted = next(iter(requirement.specifier)).version
        try:
            found = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            found = "missing"
        if found != wanted:
            wrong.append(f"{requirement.name} {found} (lock: {wanted})")
    if wrong:
        return Verdict(FAIL, "Packages", "; ".join(wrong[:5]) + ". Run: rm -rf .venv && make lab")
    return Verdict(OK, "Packages", f"all {len(wanted_here)} pinned packages installed at the locked versions")


def port_free(port: int, used_for: str) -> Verdict:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return Verdict(WARN, f"Port {port}", f"in use; {used_for} needs another port (PORT=...)")
    return Verdict(OK, f"Port {port}", f"free for {used_for}")


def reachable(name: str, url: str, default_port: int, required: bool) -> Verdict:
    parts = urlsplit(url)
    address = (parts.hostname or "127.0.0.1", parts.port or default_port)
    try:
        socket.create_connection(address, timeout=2).close()
    except OSError as error:
        level = FAIL if required else WARN
        why = "needed by make test-services" if required else "only make test-services needs it"
        return Verdict(level, name, f"not reachable at {address[0]}:{address[1]} ({error.strerror}); {why}")
    return Verdict(OK, name, f"reachable at {address[0]}:{address[1]}")


def services_answer() -> list[Verdict]:
    """Log in to PostgreSQL and ping Redis, beyond merely opening a socket."""
    import psycopg
    import redis

    postgres, redis_url = service_urls()
    verdicts = []
    try:
        with psycopg.connect(postgres.replace("+psycopg", ""), connect_timeout=3) as connection:
            row = connection.execute("show server_version").fetchone()
        version = row[0] if row else "of unknown version"
        verdicts.append(Verdict(OK, "PostgreSQL login", f"server {version}"))
    except psycopg.Error as error:
        verdicts.append(Verdict(FAIL, "PostgreSQL login", str(error).strip().splitlines()[0]))
    try:
        client = redis.Redis.from_url(redis_url, socket_timeout=3)
        verdicts.append(Verdict(OK, "Redis ping", f"server {client.info()['redis_version']}"))
        client.close()
    except redis.RedisError as error:
        verdicts.append(Verdict(FAIL, "Redis ping", str(error)))
    return verdicts


def run(services_required: bool = False) -> list[Verdict]:
    postgres, redis_url = service_urls()
    verdicts = [
        python_version(),
        pinned_packages(),
        port_free(8000, "make serve"),
        port_free(8888, "make lab"),
        reachable("PostgreSQL", postgres, 5432, services_required),
        reachable("Redis", redis_url, 6379, services_required),
    ]
    if all(v.level == OK for v in verdicts[-2:]):
        verdicts += services_answer()
    return verdicts

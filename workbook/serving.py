"""Serve a stage for real, over HTTP, from a notebook or a test."""

from __future__ import annotations

import importlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import uvicorn

from workbook.stages import ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def overlaid_environment(env: Mapping[str, str]) -> Iterator[None]:
    """os.environ with `env` laid over it, for as long as the block runs."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def stage_settings(app: str, env: Mapping[str, str] | None = None) -> Any | None:
    """A stage's Settings as the process serving `app` reads them: this process's environment,
    with `env` (the variables it is started with) laid over it. None for a stage without settings."""
    package = app.partition(":")[0].rpartition(".")[0]
    try:
        settings_module = importlib.import_module(f"{package}.settings")
    except ModuleNotFoundError:
        return None
    with overlaid_environment(env or {}):
        return settings_module.Settings()


def proxy_options(app: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """uvicorn's proxy settings for a stage: whose X-Forwarded-For header to believe.

    Left alone, uvicorn believes the header from any peer on loopback. A stage with a
    `trusted_proxies` setting (WORKBOOK_TRUSTED_PROXIES) names its proxies instead;
    naming none switches the header off, so the client is the peer that connected.
    A stage without the setting keeps uvicorn's default. `env`: the variables the
    serving process is started with, when they are not this process's own.
    """
    proxies = stage_setting(app, "trusted_proxies", env)
    if proxies is None:
        return {}
    return {"forwarded_allow_ips": proxies} if proxies else {"proxy_headers": False}


def proxy_arguments(app: str, env: Mapping[str, str] | None = None) -> list[str]:
    """`proxy_options` as uvicorn's command-line options, for a server started as a process."""
    options = proxy_options(app, env)
    if options.get("proxy_headers") is False:
        return ["--no-proxy-headers"]
    if "forwarded_allow_ips" in options:
        return ["--forwarded-allow-ips", ",".join(options["forwarded_allow_ips"])]
    return []


def stage_setting(app: str, name: str, env: Mapping[str, str] | None = None) -> Any:
    """One setting of a stage, as the process serving `app` reads it (see `stage_settings`); None without it."""
    return getattr(stage_settings(app, env), name, None)


def server_arguments() -> list[str]:
    """The event loop and HTTP parser, named rather than left to uvicorn's "auto".

    "auto" picks uvloop and httptools when they import and quietly falls back to
    asyncio and h11 when they do not: a slower server that says nothing about it.
    Named, a missing one stops the start with an ImportError instead.
    """
    return ["--loop", "uvloop", "--http", "httptools"]


def shutdown_grace(app: str, env: Mapping[str, str] | None = None) -> int | None:
    """A stage's `shutdown_grace_seconds` setting: how long uvicorn may wait for the requests in flight.

    After SIGTERM uvicorn stops accepting connections and waits for the requests in
    flight; left alone, it waits with no limit, until the supervisor's SIGKILL ends
    the wait and the lifespan's clean-up with it. The app cannot set its own server's
    options, so whatever starts the server reads the setting and passes it on.
    None for a stage without the setting.
    """
    return stage_setting(app, "shutdown_grace_seconds", env)


def shutdown_arguments(app: str, env: Mapping[str, str] | None = None) -> list[str]:
    """`shutdown_grace` as uvicorn's command-line option, for a server started as a process."""
    grace = shutdown_grace(app, env)
    return [] if grace is None else ["--timeout-graceful-shutdown", str(grace)]


@contextmanager
def running(app: str, port: int | None = None, **options: Any) -> Iterator[str]:
    """Run `app` (an import string such as "lessons.s00_orientation.main:app") with
    uvicorn in a background thread; yields its base URL and stops it on exit.

    `options` are passed on to `uvicorn.Config` (proxy_headers=False, say). Unless
    they say whose X-Forwarded-For to believe, the stage's own settings do (`proxy_options`).
    """
    port = port or free_port()
    if not {"proxy_headers", "forwarded_allow_ips"} & options.keys():
        options = proxy_options(app) | options
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{app} did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def uvicorn_process(
    app: str,
    env: Mapping[str, str | None],
    log: Path,
    *,
    ready: str = "/health",
    options: Sequence[str] = (),
) -> Iterator[tuple[str, int]]:
    """`app` under uvicorn in a process (and process group) of its own, its output in `log`.

    Yields the base URL and the server's pid once GET `ready` answers 200, and stops the
    whole group on exit, so nothing it started outlives it. `env` adds to this process's
    environment (a name set to None is left out); `options` go to uvicorn as they are,
    after the stage's own choice of whose X-Forwarded-For to believe (`proxy_arguments`).
    """
    added = {name: value for name, value in env.items() if value is not None}
    environment = {name: value for name, value in os.environ.items() if name not in env} | added
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", app, "--port", str(port), *options, *proxy_arguments(app, added),
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT, process_group=0
        )
    try:
        _wait_until_ready(url + ready, process, log)
        yield url, process.pid
    finally:
        _stop_group(process)


def _wait_until_ready(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx2.get(url, timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer 200:\n{log.read_text(encoding='utf-8')[-3000:]}")
        time.sleep(0.1)


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the process's group, SIGKILL if it has not gone within 15 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break  # the group is gone already
        try:
            process.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            continue
    process.wait()

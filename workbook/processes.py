"""Which process is which in a running stack, and which uvicorn worker served a request.

uvicorn's supervisor and its workers share one listening socket: the kernel hands
each new connection to whichever worker accepts it first, and nothing in the
answer says which did. The kernel knows, though: the worker that accepted a
connection holds it. So a request is sent over a new connection, kept open while
psutil asks each worker for the connections it holds; the one holding the
connection from this client's port is the one that served it.
"""

from __future__ import annotations

import socket
import time
from collections import Counter

import psutil


def uvicorn_workers(supervisor: int) -> list[psutil.Process]:
    """The worker processes uvicorn's supervisor spawned (its resource tracker, if any, is not one)."""
    return [child for child in psutil.Process(supervisor).children() if "spawn_main" in " ".join(child.cmdline())]


def role(process: psutil.Process) -> str:
    """What a process of the stack is, from its command line (and its parent's)."""
    command = process.cmdline()
    joined = " ".join(command)
    if "spawn_main" in joined:
        return "uvicorn worker"
    if "resource_tracker" in joined:
        return "multiprocessing resource tracker"  # started by uvicorn's supervisor, to clean up after its workers
    if "uvicorn" in command:
        return "uvicorn supervisor"
    if "celery" in command:
        parent = process.parent()
        if parent is not None and parent.cmdline() == command:
            return "celery pool process"  # forked by the celery worker: the same command line
        return "celery beat" if "beat" in command else "celery worker"
    return process.name()


def process_tree(roots: list[int]) -> Counter[str]:
    """The processes `roots` started (themselves included), counted by role."""
    counted: Counter[str] = Counter()
    for root in roots:
        top = psutil.Process(root)
        for process in [top, *top.children(recursive=True)]:
            try:
                counted[role(process)] += 1
            except psutil.NoSuchProcess:  # ended while being counted (a zombie is one too): not part of the tree
                continue
    return counted


def serving_pid(host: str, port: int, workers: list[psutil.Process]) -> int:
    """GET /health/live over a new connection, kept open until the worker that holds it is found: its PID."""
    with socket.create_connection((host, port), timeout=10) as connection:
        connection.sendall(f"GET /health/live HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = connection.recv(4096)
            if not chunk:
                raise ConnectionError(f"closed before the answer was complete: {answer!r}")
            answer += chunk
        if not answer.startswith(b"HTTP/1.1 200"):
            raise ConnectionError(f"not answered 200: {answer!r}")
        client_port = connection.getsockname()[1]
        holders = [
            worker.pid
            for worker in workers
            if any(held.raddr and held.raddr.port == client_port for held in worker.net_connections(kind="tcp"))
        ]
    if len(holders) != 1:
        raise LookupError(f"{len(holders)} workers hold the connection from port {client_port}, not one")
    return holders[0]


def pids_serving(host: str, port: int, workers: list[psutil.Process], wanted: int, seconds: float = 30) -> Counter[int]:
    """Requests over new connections until `wanted` different workers have served one, for at most `seconds`.

    Answers how many each worker served, by PID. The stack is up once one worker answers;
    the others may still be importing the app, and take no connection until they listen.
    """
    served: Counter[int] = Counter()
    deadline = time.monotonic() + seconds
    while len(served) < wanted and time.monotonic() < deadline:
        served[serving_pid(host, port, workers)] += 1
        time.sleep(0.02)  # a moment for a worker still starting to reach its accept
    return served

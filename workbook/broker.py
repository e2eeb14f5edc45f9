"""The embedded broker: fakeredis served over TCP, so a real Celery worker needs no Redis install.

A Celery worker on Redis runs a few Lua scripts: kombu releases its "restore
unacked messages" lock with redis-py's lock scripts, and keeps the bindings of
its control queues alive with two scripts of its own. fakeredis runs Lua through
`lupa` (the lock installs `fakeredis[lua]`). Clients send a script by its SHA1
first (EVALSHA) and load it only when the server answers NOSCRIPT; a real Redis
keeps the connection open after that answer, but fakeredis's TCP server closes
it, and the client's next command fails. So the broker loads those scripts before
anyone connects, and EVALSHA always finds them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from fakeredis import TcpFakeServer
from kombu.transport.redis import REFRESH_BINDING, SWEEP_BINDINGS
from redis.lock import Lock

from workbook.serving import free_port

WORKER_SCRIPTS = (Lock.LUA_RELEASE_SCRIPT, Lock.LUA_REACQUIRE_SCRIPT, REFRESH_BINDING, SWEEP_BINDINGS)


@contextmanager
def embedded_broker(port: int | None = None) -> Iterator[str]:
    """Serve a fresh fakeredis on 127.0.0.1 in a background thread; yields its redis:// URL."""
    port = port or free_port()
    server = TcpFakeServer(("127.0.0.1", port), server_type="redis")
    thread = threading.Thread(target=server.serve_forever, name="embedded-broker", daemon=True)
    thread.start()
    url = f"redis://127.0.0.1:{port}"
    try:
        with redis.Redis.from_url(url) as client:
            for script in WORKER_SCRIPTS:
                client.script_load(script)
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

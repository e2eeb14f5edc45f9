"""The app's one HTTP client for calls to other services, and the certificates it trusts.

Made once in the lifespan and closed there (resources.py), like the engine and
Redis. Its pool keeps connections open between requests: the second call to a
service skips the TCP connect and the TLS handshake the first one paid for. A
client made per request pays for both on every call, and one that is never
closed leaks its sockets.

Every request it sends carries the X-Correlation-ID of the request being served
(a request event hook), so the other service can log the same id.
"""

import ssl
from pathlib import Path
from typing import Annotated

import httpx2
import structlog
from fastapi import Depends, Request

from .correlation import HEADER
from .settings import Settings


def trusted_authorities(ca_file: Path | None) -> ssl.SSLContext:
    """Verify servers against the system's certificate authorities, and `ca_file`'s too.

    Built once, with the client: loading certificates costs milliseconds. Verification
    stays on; trusting one more authority is the fix for a private certificate, never
    `verify=False`, which would let anyone on the path pose as the provider.
    """
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=ca_file)
    return context


async def forward_correlation_id(request: httpx2.Request) -> None:
    """A request hook: runs in the calling task, so it sees the correlation id bound for the request being served."""
    correlation_id = structlog.contextvars.get_contextvars().get("correlation_id")
    if correlation_id is not None and HEADER not in request.headers:
        request.headers[HEADER] = correlation_id


def create_http_client(settings: Settings) -> httpx2.AsyncClient:
    """A client with explicit limits and timeouts, rather than the library's defaults."""
    return httpx2.AsyncClient(
        verify=trusted_authorities(settings.http_ca_file),
        limits=httpx2.Limits(
            max_connections=settings.http_max_connections,
            max_keepalive_connections=settings.http_max_keepalive_connections,
            keepalive_expiry=settings.http_keepalive_seconds,
        ),
        timeout=httpx2.Timeout(settings.http_timeout_seconds, connect=settings.http_connect_timeout_seconds),
        event_hooks={"request": [forward_correlation_id]},
    )


def get_http_client(request: Request) -> httpx2.AsyncClient:
    return request.state.http


HttpClientDep = Annotated[httpx2.AsyncClient, Depends(get_http_client)]

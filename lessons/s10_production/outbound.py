"""The app's one HTTP client for calls to other services, and the certificates it trusts.

Made once in the lifespan and closed there (resources.py), like the engine and
Redis. Its pool keeps connections open between requests: the second call to a
service skips the TCP connect and the TLS handshake the first one paid for. A
client made per request throws that away every time (`make bench LESSON=08`
measures the difference), and one that is never closed leaks its sockets.
"""

import ssl
from pathlib import Path
from typing import Annotated

import httpx2
from fastapi import Depends, Request

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
    )


def get_http_client(request: Request) -> httpx2.AsyncClient:
    return request.state.http


HttpClientDep = Annotated[httpx2.AsyncClient, Depends(get_http_client)]

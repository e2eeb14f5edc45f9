"""The app's lifespan in tests: it builds the engine, Redis and the rest that routes find in `request.state`.

TestClient runs the lifespan only when used as a context manager (`with
TestClient(app) as client`); the `client` fixture does. An httpx2 AsyncClient
over ASGITransport never runs it: the fixture below runs it itself, as a server
would: it enters the app's lifespan, then hands a copy of the state it yielded to
every request (no lifespan helper such as asgi-lifespan is in the lock).
"""

from collections.abc import AsyncIterator

import httpx2
import pytest
from fastapi.testclient import TestClient

from ...auth_helpers import ACME

pytestmark = [pytest.mark.api, pytest.mark.anyio]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def with_lifespan_state(app, state: dict):
    """The app, with `state` put into each request's scope: what uvicorn does with the lifespan's state."""

    async def asgi(scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "state": dict(state)}  # a copy per request, as Starlette's servers make
        await app(scope, receive, send)

    return asgi


@pytest.fixture
async def async_client(auth_env, stage_app) -> AsyncIterator[httpx2.AsyncClient]:
    """An async client whose app has started: the lifespan runs around the test."""
    stage_app.get_settings.cache_clear()
    async with stage_app.app.router.lifespan_context(stage_app.app) as state:
        transport = httpx2.ASGITransport(app=with_lifespan_state(stage_app.app, state or {}))
        async with httpx2.AsyncClient(transport=transport, base_url="http://storefront.test") as client:
            yield client
    stage_app.get_settings.cache_clear()


def test_pitfall_a_test_client_without_with_runs_no_lifespan(auth_env, stage_app):
    client = TestClient(stage_app.app)  # the forgotten `with`: nothing was started
    with pytest.raises(AttributeError, match="'State' object has no attribute"):
        client.get("/products", headers=ACME)


def test_a_test_client_used_with_with_runs_the_lifespan(auth_env, stage_app):
    with TestClient(stage_app.app) as client:
        assert client.get("/products", headers=ACME).status_code == 200


async def test_pitfall_an_async_client_runs_no_lifespan_either(auth_env, stage_app):
    transport = httpx2.ASGITransport(app=stage_app.app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://storefront.test") as client:
        with pytest.raises(AttributeError, match="'State' object has no attribute"):
            await client.get("/products", headers=ACME)


async def test_an_async_client_with_the_lifespan_run_gets_answers(async_client):
    response = await async_client.get("/products", headers=ACME)
    assert response.status_code == 200
    assert [product["sku"] for product in response.json()] == ["CAP-003", "MUG-001", "TEE-002"]

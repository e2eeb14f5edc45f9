"""The thread pool: its limit comes from the settings, and past it requests wait for a thread."""

import asyncio

import anyio
import pytest
from anyio import to_thread
from fastapi.testclient import TestClient
from pydantic import ValidationError

from lessons.s05_async_and_sync.main import app
from lessons.s05_async_and_sync.settings import Settings, get_settings
from workbook import bench
from workbook.serving import free_port

from .conftest import STAGE


def anyios_default_limit() -> int:
    """The limit anyio gives a fresh event loop's thread pool, before anybody changes it."""

    async def total_tokens() -> int:
        return int(to_thread.current_default_thread_limiter().total_tokens)

    return anyio.run(total_tokens)


def test_anyios_default_limit_is_40_and_the_settings_default_agrees():
    assert anyios_default_limit() == 40, "anyio's documented default"
    assert Settings().thread_limit == anyios_default_limit()


def test_the_default_limit_is_anyios_own(client):
    assert client.get("/lab/threads").json() == {"limit": anyios_default_limit(), "in_use": 0}


def test_the_lifespan_sets_the_limit_from_the_settings(stage_env, monkeypatch):
    monkeypatch.setenv("WORKBOOK_THREAD_LIMIT", "7")
    for client in STAGE.serve():
        assert client.get("/lab/threads").json()["limit"] == 7


def test_a_limit_below_one_is_refused_at_start_up(stage_env, monkeypatch):
    monkeypatch.setenv("WORKBOOK_THREAD_LIMIT", "0")
    get_settings.cache_clear()
    with pytest.raises(ValidationError, match="thread_limit"), TestClient(app):
        pass
    get_settings.cache_clear()


def test_the_blocking_call_needs_a_real_server_and_says_so(stage_env, monkeypatch):
    nobody_listens = f"http://127.0.0.1:{free_port()}/lab/slow-service"
    monkeypatch.setenv("WORKBOOK_LAB_SLOW_SERVICE_URL", nobody_listens)
    for client in STAGE.serve():
        response = client.get("/lab/threads/blocking-call?seconds=0.01")
        assert response.status_code == 502
        assert response.json()["detail"].startswith(f"the slow service at {nobody_listens}?seconds=0.01 failed")


def test_the_blocking_call_goes_where_the_settings_say_whatever_the_host_header_claims(stage_env, monkeypatch):
    # The address once came from the request's Host header: any caller could
    # make the server request an address of their choosing.
    configured = f"http://127.0.0.1:{free_port()}/lab/slow-service"
    monkeypatch.setenv("WORKBOOK_LAB_SLOW_SERVICE_URL", configured)
    for client in STAGE.serve():
        response = client.get("/lab/threads/blocking-call?seconds=0.01", headers={"Host": "internal.example:9999"})
    assert response.status_code == 502
    detail = response.json()["detail"]
    assert detail.startswith(f"the slow service at {configured}?"), detail
    assert "internal.example" not in detail


def test_the_slow_service_must_be_an_http_address():
    with pytest.raises(ValidationError, match="lab_slow_service_url"):
        Settings(lab_slow_service_url="file:///etc/passwd")


CALLS = 6
SECONDS = 0.3


def measured(url: str) -> bench.Measurement:
    """bench.thread_limit's measurement, with CALLS calls of SECONDS each instead of its own."""

    async def fire() -> bench.Measurement:
        async with bench.client_for(url) as http:
            return await bench.thread_limit(http)

    saved = bench.THREAD_REQUESTS, bench.CALL_SECONDS
    bench.THREAD_REQUESTS, bench.CALL_SECONDS = CALLS, SECONDS
    try:
        return asyncio.run(fire())
    finally:
        bench.THREAD_REQUESTS, bench.CALL_SECONDS = saved


def test_past_the_limit_requests_wait_for_a_thread_and_a_higher_limit_serves_them_at_once(served):
    with served(thread_limit=str(CALLS // 2)) as url:
        limited = measured(url)
    with served(thread_limit=str(CALLS)) as url:
        raised = measured(url)
    # Counted, not timed: a busy machine slows every call, but no more calls can
    # hold a thread at once than the pool lends out.
    assert limited.at_once == CALLS // 2, limited
    assert raised.at_once == CALLS, raised
    assert limited.verdict.startswith("in 2 rounds") and raised.verdict.startswith("in one round")
    # Two rounds of SECONDS each cannot take less than twice SECONDS, however fast the machine.
    assert limited.seconds >= 2 * SECONDS * 0.95

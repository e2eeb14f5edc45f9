"""The thread pool: its limit comes from the settings, and past it requests wait for a thread."""

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from lessons.s05_async_and_sync.main import app
from lessons.s05_async_and_sync.settings import Settings, get_settings
from workbook.serving import free_port

from .conftest import STAGE, timed_concurrently


def test_the_default_limit_is_anyios_40(client):
    assert client.get("/lab/threads").json() == {"limit": 40, "in_use": 0}


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


def test_past_the_limit_requests_wait_for_a_thread_and_a_higher_limit_serves_them_at_once(served):
    with served(thread_limit=str(CALLS // 2)) as url:
        limited = timed_concurrently(url, "/lab/threads/blocking-call", CALLS, seconds=SECONDS)
    with served(thread_limit=str(CALLS)) as url:
        raised = timed_concurrently(url, "/lab/threads/blocking-call", CALLS, seconds=SECONDS)
    # Three threads for six calls: two rounds, so at least twice the wait, whatever the noise.
    assert limited >= 2 * SECONDS * 0.95
    assert raised * 1.3 < limited, f"limit {CALLS}: {raised:.2f} s, limit {CALLS // 2}: {limited:.2f} s"

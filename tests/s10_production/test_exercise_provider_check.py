"""Exercise 10/provider_check: GET /health/payment-provider says whether the provider answers, within its
deadline whatever the provider does, and never says where the provider lives."""

import gc
import threading
import time
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

DEADLINE = 0.5  # the exercise's PROVIDER_DEADLINE_SECONDS
BOUND = 4.0  # far above the deadline, far below the client's own timeouts (10 s here)


def ask(client) -> tuple:
    started = time.monotonic()
    response = client.get("/health/payment-provider")
    return response, time.monotonic() - started


@pytest.fixture
def patient_client(auth_env, stage_app, monkeypatch) -> Iterator:
    """The app with a client that would wait 10 s per step: only the check's own deadline stops it sooner."""
    monkeypatch.setenv("WORKBOOK_HTTP_CONNECT_TIMEOUT_SECONDS", "10")
    monkeypatch.setenv("WORKBOOK_HTTP_TIMEOUT_SECONDS", "10")

    def serve(provider_url: str):
        monkeypatch.setenv("WORKBOOK_PAYMENT_PROVIDER_URL", provider_url)
        return stage_app.serve()

    yield serve


def test_a_provider_that_answers_is_up(shop):
    response, _ = ask(shop)
    assert response.status_code == 200, f"the provider answers: 200, got {response.status_code} {response.text}"
    body = response.json()
    assert body["status"] == "ok" and body["reason"] is None, f"a CheckResult saying ok, got {body}"
    assert body["latency_ms"] > 0, "the check's latency, measured (run_check does it)"


def test_a_provider_that_never_answers_is_down_within_the_deadline(patient_client, silent_port):
    for client in patient_client(f"https://127.0.0.1:{silent_port}"):
        response, took = ask(client)
        assert took < BOUND, (
            f"the check took {took:.1f} s: the client's own timeouts are per step; bound the whole check"
            f" with a deadline of {DEADLINE} s (run_check does it)"
        )
        assert response.status_code == 503, f"no answer within the deadline: 503, got {response.status_code}"
        assert response.json()["status"] == "failed", f"a CheckResult saying failed, got {response.text}"


def test_a_provider_that_never_answers_leaves_no_socket_open(patient_client, silent_port):
    for client in patient_client(f"https://127.0.0.1:{silent_port}"):
        gc.collect()  # what earlier tests left behind is not this test's
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            ask(client)
            gc.collect()
        unclosed = [str(warning.message) for warning in caught if issubclass(warning.category, ResourceWarning)]
        assert not unclosed, (
            f"{unclosed}: the deadline cancelled the request mid-handshake and the client left the connection"
            " open; give the request timeouts of its own, shorter than the deadline, so the client gives up first"
        )


def test_a_provider_that_refuses_is_down_without_saying_where_it_lives(patient_client, closed_port):
    for client in patient_client(f"https://127.0.0.1:{closed_port}"):
        response, took = ask(client)
        assert response.status_code == 503, f"a refused connection: 503, got {response.status_code}"
        assert response.json()["status"] == "failed", f"a CheckResult saying failed, got {response.text}"
        assert str(closed_port) not in response.text, (
            "the answer names the provider's address: give the error's type, never its message"
        )
        assert took < BOUND, f"a refusal is known at once, took {took:.1f} s"


class Unavailable(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass  # quiet


@pytest.fixture
def failing_provider() -> Iterator[str]:
    """A provider that answers every request 503."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Unavailable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_provider_that_answers_5xx_is_down(patient_client, failing_provider):
    for client in patient_client(failing_provider):
        response, _ = ask(client)
        assert response.status_code == 503, f"the provider answered 503, so it is down: 503, got {response.text}"
        assert "503" in response.json()["reason"], f"the reason says what it answered, got {response.text}"

"""The /lab/io routes: the same slow query, run where each route says it runs."""

import pytest

from .conftest import ACME

WORKER = "AnyIO worker thread"  # the name anyio gives the threads of its pool


def waited(client, path: str, seconds: float = 0.05) -> dict:
    response = client.get(path, params={"seconds": seconds}, headers=ACME)
    assert response.status_code == 200
    assert response.json()["seconds"] == seconds
    return response.json()


@pytest.mark.services
def test_the_blocking_route_runs_the_query_on_the_event_loops_thread(lab_client):
    assert waited(lab_client, "/lab/io/blocking")["thread"] != WORKER


@pytest.mark.services
@pytest.mark.parametrize("path", ["/lab/io/def", "/lab/io/threadpool"])
def test_the_def_and_threadpool_routes_run_the_query_in_a_worker_thread(client, path):
    assert waited(client, path)["thread"] == WORKER


@pytest.mark.services
def test_the_async_driver_route_awaits_the_query_on_the_event_loop(client):
    assert waited(client, "/lab/io/async-driver")["thread"] != WORKER


@pytest.mark.parametrize("seconds", ["0", "-1", "2.5", "soon"])
def test_a_wait_out_of_range_answers_422(client, seconds):
    assert client.get("/lab/io/def", params={"seconds": seconds}, headers=ACME).status_code == 422


def test_the_slow_service_waits_without_a_thread(client):
    assert waited(client, "/lab/slow-service")["thread"] != WORKER

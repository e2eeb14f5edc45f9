"""Exercise 05/unblock_report: GET /lab/report stays async def, and the blocking report runs in a worker thread."""

import inspect

from lessons.s05_async_and_sync.exercises.unblock_report import report

from .conftest import ACME, GLOBEX, add_users


def answer(client, headers=ACME) -> dict:
    response = client.get("/lab/report", params={"seconds": 0.01}, headers=headers)
    assert response.status_code == 200, f"GET /lab/report should answer 200, got {response.status_code}"
    return response.json()


def test_the_report_counts_the_tenants_users(client):
    add_users(client, "acme", "ada@example.com", "grace@example.com")
    assert answer(client)["users"] == 2, "acme has two users"
    assert answer(client, GLOBEX)["users"] == 0, "globex has none"


def test_the_report_is_built_in_a_worker_thread_not_on_the_event_loop(client):
    assert answer(client)["thread"] == "AnyIO worker thread", (
        "build_report ran on the event loop's thread: hand it to run_in_threadpool"
    )


def test_the_route_stays_async_def(client):
    assert answer(client)["users"] == 0
    assert inspect.iscoroutinefunction(report), "keep `async def report`; await run_in_threadpool(...) inside it"

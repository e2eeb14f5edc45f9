"""Exercise 05/offload_primes: GET /lab/primes counts in the process pool, one result per limit."""

import multiprocessing
import os


def primes(client, *limits: int | str) -> list[dict]:
    response = client.get("/lab/primes", params={"limit": list(limits)})
    assert response.status_code == 200, f"GET /lab/primes should answer 200, got {response.status_code}"
    return response.json()


def test_one_count_per_limit_in_the_order_asked(client):
    answer = primes(client, 1000, 100, 10_000)
    assert [(item["limit"], item["primes"]) for item in answer] == [(1000, 168), (100, 25), (10_000, 1229)], (
        "168 primes below 1000, 25 below 100, 1229 below 10000, in the order the limits were given"
    )


def test_the_counting_happens_in_the_pools_worker_processes(client):
    answer = primes(client, 500, 600)
    workers = {child.pid for child in multiprocessing.active_children()}
    assert all(item["pid"] != os.getpid() for item in answer), "the server's own process must not count"
    assert {item["pid"] for item in answer} <= workers, "each count should come from one of the pool's workers"


def test_bad_limits_are_refused_with_422_and_good_ones_still_answered(client):
    assert primes(client, 2)[0]["primes"] == 0, "there are no primes below 2"
    for params in ({"limit": 1}, {"limit": 300_001}, {}, {"limit": list(range(2, 11))}):
        status = client.get("/lab/primes", params=params).status_code
        assert status == 422, f"{params} should be refused with 422 (each limit 2..300000, one to eight of them)"

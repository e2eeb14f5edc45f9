"""A hundred orders at once, spread over three uvicorn processes: exactly the stock is sold.

No process knows what the others are doing; the products' locks are in the Redis
they share, and the stock in the database they share, which decides. On the embedded
default the processes share a SQLite file and the embedded Redis (fakeredis over TCP);
with --services, a fresh PostgreSQL database and the test Redis.
"""

import asyncio
import os
from contextlib import ExitStack

import pytest

from workbook.broker import embedded_broker

from ..order_helpers import order_at_once
from ..test_cache_processes import worker_process

pytestmark = pytest.mark.services

PROCESSES = 3


def test_a_hundred_orders_over_three_processes_sell_exactly_the_ten_in_stock(
    stage_app, provider, database_url, redis_url, tmp_path
):
    with ExitStack() as stack:
        env = {
            **os.environ,  # the provider's URL and certificate authority among them
            "WORKBOOK_DATABASE_URL": database_url if redis_url else f"sqlite:///{tmp_path / 'shop.db'}",
            "WORKBOOK_REDIS_URL": redis_url or stack.enter_context(embedded_broker()),
            "WORKBOOK_BCRYPT_ROUNDS": "4",
            "WORKBOOK_RATE_LIMIT_PER_MINUTE": "1000",
            "WORKBOOK_ORDER_LOCK_WAIT_SECONDS": "30",
            "WORKBOOK_WORKERS": str(PROCESSES),  # each checks that all their pools fit the server
        }
        # One after the other: on SQLite nothing serialises the creation of the tables.
        clients = [stack.enter_context(worker_process(stage_app, env)) for _ in range(PROCESSES)]
        urls = [str(client.base_url) for client in clients]
        statuses, refusals, left = asyncio.run(order_at_once(urls, 100, "MUG-001", stock=10))
    assert statuses == {201: 10, 409: 90}, f"ten sold, ninety refused, over {PROCESSES} processes: {statuses}"
    assert left == 0 and provider.charges_made == 10, "ten charges for ten mugs, the stock at zero"
    assert {refusal["detail"] for refusal in refusals} == {"Not enough stock of 'MUG-001': 1 asked, 0 left"}

"""Shoppers, as Locust plays them: each logs in, browses the cached catalogue, reads its account, orders now and then.

Run it through `make load LESSON=11` (workbook/load.py), which starts the deployment
(uvicorn's supervisor with three worker processes on one port, the Celery worker, the
payment provider), runs Locust headless for a bounded time and reads the numbers from
the CSV files Locust writes. By hand, against a running deployment:

    WORKBOOK_RATE_LIMIT_PER_MINUTE=100 locust -f lessons/s11_capstone/load/locustfile.py \
        --headless -u 20 -r 10 -t 10s --host http://127.0.0.1:8000

The rate limit is kept, not lifted. It counts per tenant and client address, so each
shopper connects from a loopback address of its own (127.0.1.1, 127.0.1.2, ...: on
Linux the whole 127.0.0.0/8 is this machine) and is one client to the server, as a
real shopper is. Each paces itself to 80 % of the limit the server was given (read
from the same WORKBOOK_RATE_LIMIT_PER_MINUTE), so a 429 means the limiter or the pacing
is wrong: it counts as a failure, like any other refusal.

Before the first shopper starts, the demo admin raises the stock of the product that
is ordered, so that orders succeed for the whole run instead of selling out in the
first seconds (an order beyond the stock answers 409, and would count as a failure).
"""

import itertools
import os
import random

import requests
from locust import HttpUser, constant_throughput, events, task
from locust.clients import LocustHttpAdapter
from urllib3 import PoolManager

TENANT = "acme"
# The demo admin every tenant gets at start-up (demo_admins.py): no registration or
# email confirmation is needed before the load starts. Every shopper logs in as it.
LOG_IN = {"username": f"admin@{TENANT}.example", "password": "storefront-demo-admin", "client_id": TENANT}
ORDERED_SKU = "MUG-001"
STOCK = 1_000_000
CARD = "tok_visa_4242424242"  # the payment provider's test card that always succeeds
RATE_LIMIT_PER_MINUTE = int(os.environ.get("WORKBOOK_RATE_LIMIT_PER_MINUTE", "100"))
# 127.0.1.1 to 127.0.1.254: one address per shopper, up to 254 of them.
ADDRESSES = (f"127.0.1.{host}" for host in itertools.cycle(range(1, 255)))


@events.test_start.add_listener
def stock_up(environment, **kwargs) -> None:
    """Log in as the admin and raise the ordered product's stock, before any shopper starts."""
    host, headers = environment.host, {"X-Tenant-ID": TENANT}
    answer = requests.post(f"{host}/token", data=LOG_IN, headers=headers, timeout=30)
    answer.raise_for_status()
    headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    product = requests.get(f"{host}/products/{ORDERED_SKU}", headers=headers, timeout=30)
    product.raise_for_status()
    # PUT replaces name, price and stock together: the same name and price, more stock.
    changes = {"name": product.json()["name"], "price": product.json()["price"], "stock": STOCK}
    url = f"{host}/admin/products/{ORDERED_SKU}"
    requests.put(url, json=changes, headers=headers, timeout=30).raise_for_status()


class Shopper(HttpUser):
    # At most this many tasks a second: 80 % of the rate limit, which counts every request.
    wait_time = constant_throughput(0.8 * RATE_LIMIT_PER_MINUTE / 60)

    def on_start(self) -> None:
        # Its own source address: the server sees one client per shopper (see the docstring).
        own_address = PoolManager(source_address=(next(ADDRESSES), 0))
        self.client.mount("http://", LocustHttpAdapter(pool_manager=own_address))
        self.skus: list[str] = []
        self.client.headers["X-Tenant-ID"] = TENANT
        # catch_response: a refused log-in is marked as a failure with the API's reason.
        with self.client.post("/token", data=LOG_IN, name="/token", catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"log-in refused: {answer.status_code} {answer.text[:200]}")
                return
            self.client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        # The SKUs to look at, as a shopper would find them: from the list.
        listing = self.client.get("/products", name="/products")
        if listing.ok:
            self.skus = [product["sku"] for product in listing.json()]

    @task(6)
    def look_at_a_product(self) -> None:
        # Served from the tiered cache (the process's own, then Redis) after the first read.
        if self.skus:
            self.client.get(f"/products/{random.choice(self.skus)}", name="/products/[sku]")

    @task(2)
    def browse_the_catalogue(self) -> None:
        self.client.get("/products", name="/products")

    @task(2)
    def read_my_account(self) -> None:
        self.client.get("/users/me", name="/users/me")

    @task(1)
    def order_a_mug(self) -> None:
        # A real order: stock taken in the database, the card charged at the payment provider.
        order = {"items": [{"sku": ORDERED_SKU, "quantity": 1}], "card_token": CARD}
        self.client.post("/orders", json=order, name="/orders")

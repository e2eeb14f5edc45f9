"""A shopper, as Locust plays one: logs in once, then mostly reads the catalogue.

Run it through `make load LESSON=09` (workbook/load.py), which serves the stage with
uvicorn on loopback, starts Locust headless for a bounded time, and reads the
numbers from the CSV files Locust writes. By hand, against a running stage:

    locust -f lessons/s09_testing/load/locustfile.py --headless -u 20 -r 10 -t 10s \
        --host http://127.0.0.1:8000

Each simulated user is one `Shopper`: `on_start` runs once per user, and then
Locust picks a task at random, weighted by the numbers in `@task(...)`, waiting
`wait_time` between two. Requests are named by route ("/products/[sku]"), not
by URL, so the statistics have one row per route rather than one per SKU.
"""

import random

from locust import HttpUser, between, task

TENANT = "acme"
# The demo admin every tenant gets at start-up (demo_admins.py): no registration or
# email confirmation is needed before the load starts.
EMAIL = f"admin@{TENANT}.example"
PASSWORD = "storefront-demo-admin"


class Shopper(HttpUser):
    # A person reads a page before clicking the next link: without a wait, 20 users
    # would be 20 tight loops, a benchmark of the client rather than a load.
    wait_time = between(0.05, 0.2)

    def on_start(self) -> None:
        self.skus: list[str] = []
        self.client.headers["X-Tenant-ID"] = TENANT
        form = {"username": EMAIL, "password": PASSWORD, "client_id": TENANT}
        # catch_response: a refused log-in is marked as a failure with the API's reason.
        with self.client.post("/token", data=form, name="/token", catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"log-in refused: {answer.status_code} {answer.text[:200]}")
                return
            self.client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        # The SKUs to look at, as a shopper would find them: from the list.
        listing = self.client.get("/products", name="/products")
        if listing.ok:
            self.skus = [product["sku"] for product in listing.json()]

    @task(5)
    def look_at_a_product(self) -> None:
        if self.skus:
            self.client.get(f"/products/{random.choice(self.skus)}", name="/products/[sku]")

    @task(3)
    def browse_the_catalogue(self) -> None:
        self.client.get("/products", name="/products")

    @task(1)
    def see_who_is_logged_in(self) -> None:
        self.client.get("/users/me", name="/users/me")

    @task(1)
    def check_health(self) -> None:
        self.client.get("/health", name="/health")

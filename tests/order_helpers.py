"""Ordering in the tests of the stages with orders: one order through a TestClient, and many at once over HTTP."""

import asyncio
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx2
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select

from .auth_helpers import ACME, ADMIN_PASSWORD, bearer, stage_module
from .payment_helpers import CARD

TOKEN = CARD["card_token"]


def order(client, headers: dict, *lines: tuple[str, int]):
    """POST /orders for (sku, quantity) lines, paid with the test card."""
    items = [{"sku": sku, "quantity": quantity} for sku, quantity in lines]
    return client.post("/orders", json={"items": items, "card_token": TOKEN}, headers=headers)


def stock_of(client: TestClient, sku: str, tenant: str = "acme") -> int:
    """The stock as the database holds it (no cache in the way)."""
    product = stage_module(client, "models").Product
    with client.app_state["tenants"].get(tenant).sessions() as session:
        return session.scalar(select(product.stock).where(product.sku == sku))


async def admin_headers(client: httpx2.AsyncClient) -> dict:
    """The demo admin of acme, logged in over HTTP: a user who needs no email confirmed first."""
    token = await client.post("/token", data={"username": "admin@acme.example", "password": ADMIN_PASSWORD})
    assert token.status_code == 200, token.text
    return bearer(token.json()["access_token"])


async def set_stock(client: httpx2.AsyncClient, headers: dict, sku: str, stock: int) -> None:
    product = (await client.get(f"/products/{sku}")).json()
    changes = {"name": product["name"], "price": product["price"], "stock": stock}
    response = await client.put(f"/admin/products/{sku}", json=changes, headers=headers)
    assert response.status_code == 200, response.text


def forwarded(address: str | None) -> dict:
    """The header a reverse proxy adds to name the client it forwards for (none for None)."""
    return {"X-Forwarded-For": address} if address else {}


async def order_at_once(
    urls: list[str], count: int, sku: str, stock: int, forwarded_for: Sequence[str | None] | None = None
) -> tuple[Counter, list[dict], int]:
    """Set `sku`'s stock, then send `count` orders for one at the same moment, spread over `urls`.

    With `forwarded_for` (one address per URL, for an app that trusts the caller as its proxy),
    the orders to each URL come from a client of their own, which has a rate limit of its own.
    Answers how many of each status came back, the 409s' bodies, and the stock left as GET /products shows it.
    """
    clients = [
        httpx2.AsyncClient(base_url=url, headers={**ACME, **forwarded(address)}, timeout=60)
        for url, address in zip(urls, forwarded_for or [None] * len(urls), strict=True)
    ]
    try:
        headers = await admin_headers(clients[0])
        await set_stock(clients[0], headers, sku, stock)
        body = {"items": [{"sku": sku, "quantity": 1}], "card_token": TOKEN}
        sends = (clients[n % len(clients)].post("/orders", json=body, headers=headers) for n in range(count))
        responses = await asyncio.gather(*sends)
        left = (await clients[-1].get(f"/products/{sku}")).json()["stock"]
    finally:
        for client in clients:
            await client.aclose()
    refusals = [response.json() for response in responses if response.status_code == 409]
    return Counter(response.status_code for response in responses), refusals, left


@contextmanager
def writes_meet(engine: Engine) -> Iterator[None]:
    """Two requests at once, each paused before its first write until the other has come as far.

    Both have then read whatever they read: code that reads a value and writes back what it
    computed from it loses one of the two, where one conditional UPDATE loses neither.
    """
    both_there = threading.Barrier(2, timeout=2)
    paused: set[int] = set()

    def meet_before_first_write(connection, cursor, statement: str, *rest) -> None:
        if statement.lstrip().upper().startswith("UPDATE") and threading.get_ident() not in paused:
            paused.add(threading.get_ident())
            try:
                both_there.wait()
            except threading.BrokenBarrierError:
                pass  # the other request never wrote: nothing to wait for

    event.listen(engine, "before_cursor_execute", meet_before_first_write)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", meet_before_first_write)


def both_at_once(engine: Engine, call: Callable[[int], httpx2.Response], arguments: Sequence[int]) -> list:
    """`call` with each of two `arguments` in a thread of its own, their writes meeting (`writes_meet`)."""
    with writes_meet(engine), ThreadPoolExecutor(2) as pool:
        return list(pool.map(call, arguments))

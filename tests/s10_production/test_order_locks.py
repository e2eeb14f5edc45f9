"""The products' Redis locks: three ways the usual snippets get a lock wrong, each run for real,
then what the app does. The pitfalls live in the stage's demo module, lock_pitfalls.py."""

import asyncio
import threading
from functools import partial

import httpx2
import pytest
from fakeredis import FakeAsyncRedis, FakeRedis
from fastapi import Depends, FastAPI
from sqlalchemy.orm import Session

from ..auth_helpers import ACME
from ..order_helpers import order, stock_of
from ..stage_apps import run_redis

pytestmark = pytest.mark.services


@pytest.fixture
def pitfalls(stage_app):
    return stage_app.module("lock_pitfalls")


async def post_at_once(app: FastAPI, *paths: str) -> list[httpx2.Response]:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://shop") as client:
        return await asyncio.gather(*(client.post(path) for path in paths))


def test_a_context_manager_returned_by_a_lambda_dependency_is_never_entered(pitfalls):
    redis, occupancy = FakeAsyncRedis(), pitfalls.Occupancy()
    app = pitfalls.lambda_lock_app(redis, occupancy)
    responses = asyncio.run(post_at_once(app, "/lambda/1", "/lambda/1"))
    assert occupancy.most == 2, "both requests were inside the 'locked' part at once"
    assert [response.json() for response in responses] == [{"locked": False}] * 2, "no lock was ever in Redis"


def test_the_usual_lambda_names_a_variable_it_cannot_see(pitfalls):
    redis = FakeAsyncRedis()
    app = FastAPI()

    # As the snippet has it: product_id is the route's parameter, not the lambda's.
    @app.post("/orders/{product_id}", dependencies=[Depends(lambda: pitfalls.product_lock(redis, product_id))])  # noqa: F821
    async def place(product_id: int) -> None: ...

    with pytest.raises(NameError, match="product_id"):
        asyncio.run(post_at_once(app, "/orders/1"))


def test_a_yield_dependency_that_enters_the_lock_lets_one_request_in_at_a_time(pitfalls):
    redis, occupancy = FakeAsyncRedis(), pitfalls.Occupancy()
    app = pitfalls.lambda_lock_app(redis, occupancy)
    responses = asyncio.run(post_at_once(app, "/yield/1", "/yield/1", "/yield/1"))
    assert occupancy.most == 1, "one request inside at a time"
    assert [response.json() for response in responses] == [{"locked": True}] * 3
    assert asyncio.run(redis.exists(pitfalls.lock_key(1))) == 0, "released after each request"


def release_in_another_thread(pitfalls, thread_local: bool) -> tuple[list[str], FakeRedis]:
    """Take the sync lock in a dependency, keep its thread busy with another request, then finish."""
    redis, outcome = FakeRedis(), []

    async def scenario() -> None:
        go = asyncio.Event()
        app = pitfalls.sync_lock_app(redis, outcome, go, thread_local)
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://shop") as client:
            holding = asyncio.create_task(client.post("/hold"))
            while not outcome:  # the lock is taken, in a thread of the pool
                await asyncio.sleep(0.01)
            busy = asyncio.create_task(client.post("/busy"))  # takes that same thread for half a second
            await asyncio.sleep(0.1)
            go.set()  # /hold finishes: its exit code runs in whichever thread is free
            await asyncio.gather(holding, busy)

    asyncio.run(scenario())
    return outcome, redis


def test_a_sync_lock_released_after_yield_runs_in_another_thread_and_is_not_released(pitfalls):
    outcome, redis = release_in_another_thread(pitfalls, thread_local=True)
    acquired, released = outcome
    assert acquired.split()[-1] != released.split()[-1], f"the code after yield ran in another thread: {outcome}"
    assert released.startswith("AttributeError"), f"that thread has no token, so release() fails: {outcome}"
    assert redis.exists(pitfalls.lock_key(1)) == 1, "the lock stays in Redis until its TTL, blocking everyone"


def test_a_lock_without_a_thread_local_token_is_released_from_any_thread(pitfalls):
    outcome, redis = release_in_another_thread(pitfalls, thread_local=False)
    assert outcome[1].startswith("released"), outcome
    assert redis.exists(pitfalls.lock_key(1)) == 0


@pytest.fixture
def one_mug(stage_app, tmp_path):
    """A products table on a SQLite file, with one mug in stock; yields its session factory."""
    database = stage_app.module("database")
    engine = database.create_db_engine(f"sqlite:///{tmp_path / 'demo.db'}", schemas=["tenant_demo"])
    tenant_engine = database.create_tenant_tables(engine, "tenant_demo")
    with Session(tenant_engine) as session:
        session.add(stage_app.module("models").Product(sku="MUG-001", name="Enamel mug", price=12.5, stock=1))
        session.commit()
    yield lambda: Session(tenant_engine)
    engine.dispose()


async def two_buyers(locks, sell) -> list[bool]:
    """Two buyers of the last mug, each holding the product's lock while it sells: True for each sale."""

    async def buyer() -> bool:
        async with locks.holding("demo", ["MUG-001"]):
            return await asyncio.to_thread(sell)

    return await asyncio.gather(buyer(), buyer())


def test_a_lock_that_expires_mid_sale_lets_a_read_then_write_sell_one_mug_twice(stage_app, pitfalls, one_mug):
    # The lock lasts 0.2 s; the sale takes 0.8 s: the second buyer gets the lock while the first still sells.
    locks = stage_app.module("product_locks").ProductLocks(FakeAsyncRedis(), ttl_seconds=0.2, wait_seconds=5)

    def sell() -> bool:
        with one_mug() as session:
            return pitfalls.sell_by_reading(session, "MUG-001", pause=0.8)

    sales = asyncio.run(two_buyers(locks, sell))
    assert sales == [True, True], "both read 1 in stock, both sold it"


def test_the_conditional_update_sells_the_last_mug_once_however_the_lock_times(stage_app, one_mug):
    stock, schemas = stage_app.module("stock"), stage_app.module("order_schemas")
    locks = stage_app.module("product_locks").ProductLocks(FakeAsyncRedis(), ttl_seconds=0.2, wait_seconds=5)

    def sell() -> bool:
        with one_mug() as session:
            threading.Event().wait(0.8)  # the same slow sale: the lock has expired by the time it writes
            try:
                stock.take(session, [schemas.OrderLine(sku="MUG-001", quantity=1)])
            except stock.OutOfStock:
                return False
            session.commit()
            return True

    assert sorted(asyncio.run(two_buyers(locks, sell))) == [False, True], "one sale, one refusal"


def test_an_order_for_a_busy_product_is_409_with_retry_after(shop, payer, provider, monkeypatch):
    # Another process holds the mug's lock, and will for longer than this order waits.
    redis = shop.app_state["redis"]
    shop.portal.call(partial(redis.set, "lock:product:acme:MUG-001", "someone-else", ex=30))
    response = order(shop, payer, ("TEE-002", 1), ("MUG-001", 1))
    assert response.status_code == 409, response.text
    assert response.headers["Retry-After"] == "2", "the configured wait, rounded up"
    assert "retry shortly" in response.json()["detail"]
    assert stock_of(shop, "TEE-002") == 15, "nothing taken, not even the product whose lock was free"
    assert run_redis(shop, "get", "lock:product:acme:TEE-002") is None, "the lock it did take was given back"
    assert shop.get("/products/TEE-002", headers=ACME).status_code == 200

"""Placing an order: take the stock, charge the card, record how it ended.

    1. take the stock, record the order "pending"   one short transaction, under the products' locks
    2. charge the total through the provider        no transaction open, no lock held
    3. record it "paid"                             one short transaction
       or, if the charge failed or timed out: give the stock back, record it "failed"

No transaction stays open across the charge: a provider that takes its whole
deadline would otherwise hold a pooled connection for that long, and on
PostgreSQL the product rows' locks too, stopping every other order for them.

A failed order is kept, marked "failed" with its stock given back, rather than
deleted: its id exists before the charge, because the provider's idempotency key
is made from it. After a timeout the provider may have charged all the same; the
failed row, with its key, is what lets someone find that charge and refund it.
A deleted order would leave a charge that nothing in the shop explains.
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Final

from anyio import CancelScope
from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from structlog.typing import FilteringBoundLogger

from . import stock
from .dependencies import SessionDep, TenantDep, get_logger
from .models import Order, OrderItem
from .order_schemas import OrderOut, OrderRequest
from .payments import PaymentRequest, PaymentService, PaymentServiceDep
from .product_cache import ProductCaches, ProductCachesDep
from .product_locks import ProductLocks, ProductLocksDep
from .tenancy import Tenant

CURRENCY: Final = "EUR"  # the currency the catalogue's prices are in
MOST_RECENT = 100  # GET /orders answers at most this many, newest first


class OrderNotFound(LookupError):
    def __init__(self, order_id: int) -> None:
        super().__init__(f"No order {order_id}")


class OrderTooLarge(ValueError):
    """More than one card charge may carry (PaymentRequest's bound on `amount`)."""


def provider_key(tenant_id: str, order_id: int) -> str:
    """The charge's idempotency key: one order, one charge, however often it is sent."""
    return f"storefront-order-{tenant_id}-{order_id}"


def payment_for(total: Decimal, request: OrderRequest) -> PaymentRequest:
    """The charge for `total`, checked by PaymentRequest's own rules (its bound on the amount)."""
    try:
        # In minor units: prices have two decimal places (NUMERIC(10, 2)), so this is exact.
        return PaymentRequest(amount=int(total * 100), currency=CURRENCY, card_token=request.card_token)
    except ValidationError as error:
        raise OrderTooLarge(f"The order's total, {total} {CURRENCY}, is more than one payment may be") from error


class OrderService:
    def __init__(
        self,
        session: Session,
        tenant: Tenant,
        payments: PaymentService,
        locks: ProductLocks,
        caches: ProductCaches,
        logger: FilteringBoundLogger,
    ) -> None:
        self.session = session
        self.tenant = tenant
        self.payments = payments
        self.locks = locks
        self.caches = caches
        self.logger = logger

    async def place(self, user_id: int, request: OrderRequest) -> OrderOut:
        skus = [line.sku for line in request.items]
        # No connection is held while this waits its turn: the log-in check ended its read.
        async with self.locks.holding(self.tenant.id, skus):
            order_id, payment = await run_in_threadpool(self._take_stock, user_id, request)
        await self._forget(skus)
        try:
            charge = await self.payments.charge(payment, provider_key(self.tenant.id, order_id))
        except BaseException:
            # Failed (502), timed out (504), or cancelled: shielded, so that a cancellation
            # cannot stop the stock from going back.
            with CancelScope(shield=True):
                await run_in_threadpool(self._fail, order_id)
                await self._forget(skus)
            raise
        return await run_in_threadpool(self._settle, order_id, charge.id)

    def get(self, user_id: int, order_id: int) -> OrderOut:
        order = self.session.get(Order, order_id)
        # Someone else's order is answered as no order at all: its id reveals nothing.
        if order is None or order.user_id != user_id:
            raise OrderNotFound(order_id)
        return OrderOut.model_validate(order)

    def list_for(self, user_id: int) -> list[OrderOut]:
        query = select(Order).where(Order.user_id == user_id).order_by(Order.id.desc()).limit(MOST_RECENT)
        return [OrderOut.model_validate(order) for order in self.session.scalars(query)]

    def _take_stock(self, user_id: int, request: OrderRequest) -> tuple[int, PaymentRequest]:
        """Take the stock and record the order as pending; answers its id and the payment to make."""
        lines = request.items
        try:
            prices = stock.take(self.session, lines)
            total = sum((prices[line.sku] * line.quantity for line in lines), Decimal(0))
            payment = payment_for(total, request)
            items = [OrderItem(sku=line.sku, quantity=line.quantity, price=prices[line.sku]) for line in lines]
            order = Order(user_id=user_id, total=total, currency=CURRENCY, items=items)
            self.session.add(order)
            self.session.commit()
        except Exception:
            # Before the products' locks are let go: on PostgreSQL the rows stay locked until then.
            self.session.rollback()
            raise
        self.logger.info("order.reserved", order_id=order.id, total=str(total))
        return order.id, payment

    def _fail(self, order_id: int) -> None:
        order = self.session.get_one(Order, order_id)
        stock.give_back(self.session, [(item.sku, item.quantity) for item in order.items])
        order.status = "failed"
        self.session.commit()
        self.logger.warning("order.payment_failed", order_id=order_id)

    def _settle(self, order_id: int, charge_id: str) -> OrderOut:
        order = self.session.get_one(Order, order_id)
        order.status, order.charge_id = "paid", charge_id
        self.session.commit()
        self.logger.info("order.paid", order_id=order_id, charge_id=charge_id)
        return OrderOut.model_validate(order)

    async def _forget(self, skus: Sequence[str]) -> None:
        # The stock changed: every cached copy of these products is stale (product_cache.py).
        for sku in skus:
            await self.caches.forget(self.tenant.id, sku)


def get_order_service(
    session: SessionDep,
    tenant: TenantDep,
    payments: PaymentServiceDep,
    locks: ProductLocksDep,
    caches: ProductCachesDep,
    logger: Annotated[FilteringBoundLogger, Depends(get_logger)],
) -> OrderService:
    return OrderService(session, tenant, payments, locks, caches, logger)


OrderServiceDep = Annotated[OrderService, Depends(get_order_service)]

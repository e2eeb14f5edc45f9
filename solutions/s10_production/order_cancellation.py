"""Exercise 10/order_cancellation: the owner cancels a paid order, and its stock goes back exactly once.

POST /orders/{order_id}/cancel is routed already. Write `cancel_order`, which it
calls in the thread pool with the request's session:

- a paid order of the caller's becomes "cancelled", every line's quantity goes
  back on the shelf (`stock.give_back(session, [(sku, quantity), ...])`), one
  commit; answer the order;
- an order that is not the caller's, or no order at all: raise OrderNotFound(order_id)
  (404, as GET /orders/{order_id} answers);
- an order that is not paid (cancelled already, failed, or still pending): 409,
  `HTTPException(409, f"Order {order_id} is {status}; only a paid order can be cancelled")`;
- two cancels of one order at the same moment: the stock goes back ONCE, one
  answer is 200 and the other 409.

The last rule is the exercise. Reading the status and then writing "cancelled"
lets both requests read "paid", and both give the stock back. Let the database
decide, as stock.py does when it takes stock: one conditional
`UPDATE orders SET status = 'cancelled' WHERE id = ... AND user_id = ... AND status = 'paid'`,
whose row count (`stock.rows_changed`) says whether this request won. Refunding the card is the
provider's business and is left out here.
"""

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import update
from sqlalchemy.orm import Session

from .. import stock
from ..authentication import MeDep
from ..dependencies import SessionDep, TenantDep
from ..models import Order
from ..order_schemas import OrderOut
from ..orders import OrderNotFound
from ..product_cache import ProductCachesDep
from ..rate_limiting import rate_limiter
from ..routes.orders import OrderId

router = APIRouter(tags=["exercises"], dependencies=[Depends(rate_limiter)])


def cancel_order(session: Session, user_id: int, order_id: int) -> OrderOut:
    # BEGIN SOLUTION
    # The check and the write in one statement: of two racing cancels, exactly one changes the row.
    won = stock.rows_changed(
        session,
        update(Order)
        .where(Order.id == order_id, Order.user_id == user_id, Order.status == "paid")
        .values(status="cancelled"),
    )
    order = session.get(Order, order_id)
    if order is None or order.user_id != user_id:
        raise OrderNotFound(order_id)
    if won != 1:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"Order {order_id} is {order.status}; only a paid order can be cancelled"
        )
    stock.give_back(session, [(item.sku, item.quantity) for item in order.items])
    session.commit()
    return OrderOut.model_validate(order)
    # END SOLUTION


@router.post(
    "/orders/{order_id}/cancel",
    responses={
        404: {"description": "No such order of the caller's"},
        409: {"description": "The order is not paid: cancelled already, failed, or still pending"},
    },
)
async def cancel(
    order_id: OrderId, user: MeDep, session: SessionDep, tenant: TenantDep, caches: ProductCachesDep
) -> OrderOut:
    order = await run_in_threadpool(cancel_order, session, user.id, order_id)
    for item in order.items:  # the stock changed: every cached copy of these products is stale
        await caches.forget(tenant.id, item.sku)
    return order

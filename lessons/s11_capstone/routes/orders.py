"""The orders routes: a logged-in user orders products and pays by card, then reads their orders.

Each needs an X-Tenant-ID header (the catalogue and the orders are the tenant's)
and counts against the caller's rate limit. orders.py places the order;
stock.py is why no product is ever sold twice over.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from fastapi.exceptions import RequestValidationError

from ..authentication import MeDep
from ..order_schemas import OrderOut, OrderRequest
from ..orders import OrderServiceDep, OrderTooLarge
from ..path_params import MAX_ID
from ..rate_limiting import rate_limiter

router = APIRouter(tags=["orders"], dependencies=[Depends(rate_limiter)])

OrderId = Annotated[int, Path(ge=1, le=MAX_ID, description="The order's id")]


@router.post(
    "/orders",
    status_code=status.HTTP_201_CREATED,
    responses={
        404: {"description": "A SKU names no product of this tenant; nothing was taken or charged"},
        409: {"description": "Not enough stock, or the product is busy (retry after Retry-After); nothing charged"},
        502: {"description": "The payment provider failed: the stock went back, the order is marked failed"},
        504: {"description": "The payment provider did not answer in time: the stock went back"},
    },
)
async def place_order(body: OrderRequest, user: MeDep, orders: OrderServiceDep) -> OrderOut:
    try:
        return await orders.place(user.id, body)
    except OrderTooLarge as error:
        # A 422 in the shape of every other: a list of problems, each with where it is.
        problem = {"type": "order_too_large", "loc": ("body", "items"), "msg": str(error), "input": None}
        raise RequestValidationError([problem]) from error


@router.get("/orders")
def list_orders(user: MeDep, orders: OrderServiceDep) -> list[OrderOut]:
    """The caller's most recent orders, newest first."""
    return orders.list_for(user.id)


@router.get("/orders/{order_id}", responses={404: {"description": "No such order of the caller's"}})
def get_order(order_id: OrderId, user: MeDep, orders: OrderServiceDep) -> OrderOut:
    return orders.get(user.id, order_id)

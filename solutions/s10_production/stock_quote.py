"""Exercise 10/stock_quote: a problem a client can act on, with extension members.

GET /products/{sku}/quote?quantity=N prices N of a product. Asking for more than
the stock raises NotEnoughStock. A domain error in errors.py's table would answer
409 with the message as `detail`, and a client that wants to offer "only 3 left"
would have to read the number out of a sentence. Write the handler instead:

Answer a 409 problem (use `problem_response` from problems.py) with
- the slug "not-enough-stock" and the title "Not enough stock";
- a `detail` sentence such as "Only 3 of TEE-002 are in stock; 5 were asked for";
- the extension members `sku`, `requested` and `available`, so a client reads
  the numbers, not the sentence.
"""

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ..dependencies import ProductRepositoryDep
from ..problems import Problem, documented, problem_response
from ..rate_limiting import rate_limiter
from ..routes.products import Sku

router = APIRouter(tags=["exercises"], dependencies=[Depends(rate_limiter)])


class NotEnoughStock(Exception):
    def __init__(self, sku: str, requested: int, available: int) -> None:
        super().__init__(f"Only {available} of {sku} are in stock; {requested} were asked for")
        self.sku, self.requested, self.available = sku, requested, available


class Quote(BaseModel):
    sku: str
    quantity: int
    total: Decimal


async def not_enough_stock(request: Request, error: NotEnoughStock) -> JSONResponse:
    # BEGIN SOLUTION
    return problem_response(
        request,
        status.HTTP_409_CONFLICT,
        str(error),
        slug="not-enough-stock",
        title="Not enough stock",
        sku=error.sku,
        requested=error.requested,
        available=error.available,
    )
    # END SOLUTION


@router.get("/products/{sku}/quote", responses={409: documented(Problem, "Fewer in stock than asked for")})
async def quote(sku: Sku, quantity: Annotated[int, Query(ge=1, le=1000)], products: ProductRepositoryDep) -> Quote:
    product = await run_in_threadpool(products.get, sku)  # ProductNotFound answers 404
    if quantity > product.stock:
        raise NotEnoughStock(sku, quantity, product.stock)
    return Quote(sku=sku, quantity=quantity, total=product.price * quantity)

"""What POST /orders accepts and what the order routes answer.

An order names each product once, with a bounded quantity, and carries the card
token exactly as POST /payments does (payments.py's CardToken: a secret, checked
the same way). Everything is bounded here, so no request the schema allows can
ask for more than one charge may carry.
"""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from .payments import CardToken
from .product_schemas import SKU_EXAMPLE, SKU_PATTERN

MAX_LINES = 20
MAX_QUANTITY = 100


class OrderLine(BaseModel):
    sku: Annotated[str, Field(pattern=SKU_PATTERN, max_length=32, examples=[SKU_EXAMPLE])]
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)]


def _each_sku_once(lines: list[OrderLine]) -> list[OrderLine]:
    # Refused rather than merged: two lines for one SKU is more likely a client bug than a wish.
    skus = [line.sku for line in lines]
    if len(set(skus)) != len(skus):
        raise ValueError("Each SKU may appear once in an order; put its quantities together")
    return lines


class OrderRequest(BaseModel):
    items: Annotated[list[OrderLine], Field(min_length=1, max_length=MAX_LINES), AfterValidator(_each_sku_once)]
    card_token: CardToken


class OrderItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    quantity: int
    price: Decimal = Field(description="The price of one, when the order was placed")


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: Literal["pending", "paid", "failed", "cancelled"]
    total: Decimal
    currency: str
    charge_id: str | None = Field(description="The payment provider's id for the charge, once paid")
    created_at: datetime
    items: list[OrderItemOut]

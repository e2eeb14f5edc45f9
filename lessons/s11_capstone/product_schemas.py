"""What the product routes accept and answer.

`ProductOut` is a plain value, not a row: it stays valid after its session has
closed, so it can be returned, kept in a cache, or turned into JSON and back.
"""

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from .path_params import MAX_ID
from .schemas import Name

# A SKU is short, upper-case letters, digits and dashes: "MUG-001". Checked where
# the path is parsed, so nothing else ever reaches the database as a key.
SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{1,31}$"
SKU_EXAMPLE = "MUG-001"

# NUMERIC(10, 2): at most 10 digits, 2 of them after the point, never negative.
# A larger or finer price is a 422 here, not an error from the database.
Price = Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2, examples=["12.50"])]
# Stock fits the INTEGER column, and is never negative.
Stock = Annotated[int, Field(ge=0, le=MAX_ID)]


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    sku: str = Field(examples=[SKU_EXAMPLE])
    name: str
    price: Decimal
    stock: int


class ProductChanges(BaseModel):
    """PUT /admin/products/{sku}: the product's new name, price and stock, all three."""

    name: Name
    price: Price
    stock: Stock

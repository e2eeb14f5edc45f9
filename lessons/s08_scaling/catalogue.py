"""The product catalogue: a few products kept in memory, the same in every run."""

from pydantic import BaseModel, Field


class Product(BaseModel):
    sku: str = Field(examples=["MUG-001"])
    name: str
    # Money is counted in whole cents: floats cannot represent 0.10 exactly.
    price_cents: int = Field(ge=0)
    stock: int = Field(ge=0)


CATALOGUE: dict[str, Product] = {
    product.sku: product
    for product in (
        Product(sku="MUG-001", name="Enamel mug", price_cents=1250, stock=40),
        Product(sku="TEE-002", name="Logo T-shirt", price_cents=2400, stock=15),
        Product(sku="CAP-003", name="Baseball cap", price_cents=1800, stock=0),
    )
}

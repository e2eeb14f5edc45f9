"""Exercise 00/product_lookup: look one product up by its SKU.

`GET /products/{sku}` answers the product as JSON (200). An unknown SKU answers
404 with the detail "No product with SKU '<sku>'", so a client can tell a typo
from a server fault.
"""

from fastapi import APIRouter, HTTPException, status

from ..catalogue import CATALOGUE, Product

router = APIRouter()


@router.get("/products/{sku}")
def get_product(sku: str) -> Product:
    raise NotImplementedError("exercise 00/product_lookup: write this part")

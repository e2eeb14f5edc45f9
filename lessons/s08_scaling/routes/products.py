"""GET /products: the catalogue."""

from fastapi import APIRouter

from ..catalogue import CATALOGUE, Product

router = APIRouter(tags=["products"])


@router.get("/products")
def list_products() -> list[Product]:
    return list(CATALOGUE.values())

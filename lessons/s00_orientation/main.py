"""Stage 00: a Storefront API with a health check and a product list.

Serve it with `make serve LESSON=00` and open http://127.0.0.1:8000/docs.
"""

from fastapi import FastAPI

from .api_docs import serve_docs_offline
from .catalogue import CATALOGUE, Product
from .exercises import product_lookup

app = FastAPI(
    title="Storefront API",
    version="stage 00",
    summary="Orientation: run a stage, call it, read its docs.",
    # The CDN pages off: api_docs.py serves /docs and /redoc from installed files.
    docs_url=None,
    redoc_url=None,
)
serve_docs_offline(app)


@app.get("/health")
def health() -> dict[str, str]:
    """Answers while the app is up; instructors use it to check a stage started."""
    return {"status": "ok", "stage": "00"}


@app.get("/products")
def list_products() -> list[Product]:
    return list(CATALOGUE.values())


# Your exercise route. Until you write it, calling it answers 500 (NotImplementedError).
app.include_router(product_lookup.router)

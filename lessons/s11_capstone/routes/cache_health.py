"""GET /health/cache: how often each tier of this process's caches answered, and how fast."""

from fastapi import APIRouter

from ..product_cache import ProductCachesDep

router = APIRouter(tags=["health"])

# Per cache, per tier: hits, misses, hit_ratio, and median_ms over the latest lookups.
TierSummaries = dict[str, dict[str, float | int | None]]


@router.get("/health/cache")
def cache_health(caches: ProductCachesDep) -> dict[str, TierSummaries]:
    """This process only: each worker process keeps its own counts (and its own local tier)."""
    return {"products": caches.products.summary(), "catalogues": caches.catalogues.summary()}

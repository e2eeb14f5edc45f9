"""GET /health/pool and GET /metrics: the connection pool's figures, for people and for Prometheus.

Neither takes a connection from the pool, so both answer while it is exhausted:
exactly when they are needed.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from ..pool_watch import PoolHealth, PoolWatch

router = APIRouter(tags=["health"])


def get_pool_watch(request: Request) -> PoolWatch:
    return request.state.pool


PoolWatchDep = Annotated[PoolWatch, Depends(get_pool_watch)]


@router.get("/health/pool")
def pool_health(watch: PoolWatchDep) -> PoolHealth:
    return watch.health()


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(request: Request) -> Response:
    registry: CollectorRegistry = request.state.metrics
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

"""GET /health/live and GET /health/ready: the two questions an orchestrator asks each process.

Liveness: is this process working at all? Kubernetes restarts a process that fails
it, so it checks nothing outside the process. A liveness probe that checked the
database would fail on every replica at once when the database blips, and every
replica would be restarted: a short database outage becomes an outage of the whole
API, with cold starts on top, and no restart brings the database back.

Readiness: should this process be sent requests now? It fails while a dependency
it needs is gone or too slow; the load balancer stops sending it requests, and
sends them again once it answers 200. Nothing is restarted (readiness.py).
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel

from ..readiness import Readiness, ReadinessChecks

router = APIRouter(tags=["health"])


class Liveness(BaseModel):
    status: Literal["alive"] = "alive"


@router.get("/health/live")
async def live() -> Liveness:
    """Answers while the process serves; checks nothing outside it."""
    # `async def`, so it runs on the event loop itself: a loop that something blocks
    # does not answer, which is exactly what "this process is stuck" means.
    return Liveness()


def get_readiness_checks(request: Request) -> ReadinessChecks:
    return request.state.readiness


ReadinessChecksDep = Annotated[ReadinessChecks, Depends(get_readiness_checks)]


@router.get(
    "/health/ready",
    responses={503: {"model": Readiness, "description": "Not ready: `failed` names the checks that failed"}},
)
async def ready(checks: ReadinessChecksDep, response: Response) -> Readiness:
    """The database, Redis and the broker, checked at once, each within its own deadline."""
    readiness = await checks.run()
    if readiness.failed:
        # The same body either way: a load balancer reads the status, a person the rest.
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return readiness

"""Which request is running here: "GET /products", readable from any code it calls.

A context variable holds the label for the request being served. FastAPI runs
`def` routes and dependencies in worker threads, and copies the context into
the thread, so code deep below (a pool event, say) sees the label of the
request it is working for. Outside any request it is None.
"""

from contextvars import ContextVar

from starlette.types import ASGIApp, Receive, Scope, Send

current_request: ContextVar[str | None] = ContextVar("current_request", default=None)


class LabelRequests:
    """ASGI middleware: sets `current_request` for the length of each HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = current_request.set(f"{scope['method']} {scope['path']}")
        try:
            await self.app(scope, receive, send)
        finally:
            current_request.reset(token)

"""The service's edge: which Host headers it answers, and which browser origins may call it.

Two of Starlette's middlewares, set up from the settings (deployment_settings.py):

- TrustedHostMiddleware answers 400 to a request whose Host is not in
  WORKBOOK_ALLOWED_HOSTS, before any route runs; "*" (the default) lets every host in,
  and then the middleware is left out altogether.
- CORSMiddleware lets the pages of WORKBOOK_CORS_ORIGINS call the API from script:
  a preflight from one of them is answered with the methods and headers below, named
  one by one rather than "*"; a request from any other origin gets no CORS headers,
  so the browser keeps its answer from the page. Credentials (the Authorization
  header) are allowed only when the origins are named: with "*" a browser would
  lend a user's log-in to every site.

`GuardTheEdge` builds them when the app starts, from the settings the lifespan
reads, so a test (or a restart) with other settings gets other checks.
"""

from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from .settings import Settings, get_settings

ANY = "*"
# Every method a route of the API answers, and every header a client of it sends or reads.
CORS_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
CORS_HEADERS = ["Authorization", "Content-Type", "X-Tenant-ID", "Idempotency-Key", "X-Correlation-ID"]
CORS_EXPOSED = ["X-Correlation-ID", "Retry-After", "WWW-Authenticate"]
# How long a browser may reuse a preflight's answer, in seconds.
PREFLIGHT_SECONDS = 600


def edge_checks(app: ASGIApp, settings: Settings) -> ASGIApp:
    """`app` behind the host check (outermost) and CORS, as far as the settings ask for them."""
    if settings.cors_origins:
        app = CORSMiddleware(
            app,
            allow_origins=settings.cors_origins,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_HEADERS,
            allow_credentials=ANY not in settings.cors_origins,
            expose_headers=CORS_EXPOSED,
            max_age=PREFLIGHT_SECONDS,
        )
    if ANY not in settings.allowed_hosts:
        # No redirect from www.<host> to <host>: a host not named is refused, plainly.
        app = TrustedHostMiddleware(app, allowed_hosts=settings.allowed_hosts, www_redirect=False)
    return app


class GuardTheEdge:
    """Pure ASGI middleware: the edge checks, built from the settings of each run of the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.guarded: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            self.guarded = None  # a new run: its settings may differ from the last one's
            await self.app(scope, receive, send)
            return
        if self.guarded is None:
            self.guarded = edge_checks(self.app, get_settings())
        await self.guarded(scope, receive, send)

"""Stage 05: async and sync, measured.

Serve it with `make serve LESSON=05`: as in stage 04, that starts the app, a
broker, a Celery worker and a mail server, and prints where /docs is. The shop's
routes are stage 04's. The /lab routes (lab.py) show what blocks the event loop,
and each fix; `make bench LESSON=05` measures them over real HTTP. This module
is the app's table of contents: resources in resources.py, exception handlers
in errors.py, each feature a router in routes/.
"""

from fastapi import FastAPI

from . import lab
from .api_docs import serve_docs_offline
from .errors import register_error_handlers
from .exercises import async_users, offload_primes, unblock_report
from .resources import lifespan
from .routes import analytics, health, products, profile_images, tasks, users

app = FastAPI(
    title="Storefront API",
    version="stage 05",
    summary="Async and sync: what blocks the event loop, measured, and each fix.",
    lifespan=lifespan,
    # The CDN pages off: api_docs.py serves /docs and /redoc from installed files.
    docs_url=None,
    redoc_url=None,
)
serve_docs_offline(app)
register_error_handlers(app)

app.include_router(health.router)
app.include_router(products.router)
app.include_router(users.router)
app.include_router(profile_images.router)
app.include_router(analytics.router)
app.include_router(tasks.router)

# The measurements' routes, kept apart from the shop's under /lab.
app.include_router(lab.router)

# Your exercise routes. Until you write them, calling them answers 500 (NotImplementedError).
app.include_router(async_users.router)
app.include_router(offload_primes.router)
app.include_router(unblock_report.router)

"""Stage 01: users stored in a database, every resource handed in by `Depends`.

Serve it with `make serve LESSON=01` and open http://127.0.0.1:8000/docs.
This module is the app's table of contents: the resources are built in
resources.py, the exception handlers live in errors.py, each feature is a
router in routes/.
"""

from fastapi import FastAPI

from .api_docs import serve_docs_offline
from .errors import register_error_handlers
from .exercises import audit_trail, pagination
from .resources import lifespan
from .routes import health, products, users

app = FastAPI(
    title="Storefront API",
    version="stage 01",
    summary="Dependency injection: settings, sessions, loggers and services.",
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

# Your exercise routes. Until you write them, calling them answers 500 (NotImplementedError).
app.include_router(pagination.router)
app.include_router(audit_trail.router)

"""Stage 02: tenants, a rate limit, an access check chain, and a repository port.

Serve it with `make serve LESSON=02` and open http://127.0.0.1:8000/docs.
Every /users route needs an X-Tenant-ID header (acme or globex); deleting a
user also needs an X-API-Key (acme-admin-key, say). This module is the app's
table of contents: resources in resources.py, exception handlers in errors.py,
each feature a router in routes/.
"""

from fastapi import FastAPI

from .api_docs import serve_docs_offline
from .errors import register_error_handlers
from .exercises import rate_limit_usage, users_by_domain
from .resources import lifespan
from .routes import health, products, users

app = FastAPI(
    title="Storefront API",
    version="stage 02",
    summary="Advanced dependencies: tenants, rate limits, access checks and repositories.",
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
app.include_router(rate_limit_usage.router)
app.include_router(users_by_domain.router)

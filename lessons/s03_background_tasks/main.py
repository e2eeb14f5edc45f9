"""Stage 03: background tasks, after the response.

Serve it with `make serve LESSON=03` and open http://127.0.0.1:8000/docs.
Every /users route needs an X-Tenant-ID header (acme or globex). Upload a
profile image for user 1 with POST /users/1/profile-image: the answer (202)
comes at once, and the thumbnails appear at GET /users/1/profile-image a moment
later. This module is the app's table of contents: resources in resources.py,
exception handlers in errors.py, each feature a router in routes/.
"""

from fastapi import FastAPI

from .api_docs import serve_docs_offline
from .errors import register_error_handlers
from .exercises import delete_profile_image, square_thumbnail
from .resources import lifespan
from .routes import analytics, health, products, profile_images, users

app = FastAPI(
    title="Storefront API",
    version="stage 03",
    summary="Background tasks: thumbnails and analytics after the response.",
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

# Your exercise routes. Until you write them, calling them answers 500 (NotImplementedError).
app.include_router(delete_profile_image.router)
app.include_router(square_thumbnail.router)

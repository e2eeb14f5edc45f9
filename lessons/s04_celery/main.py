"""Stage 04: registering a user queues a welcome email that a Celery worker sends.

Serve it with `make serve LESSON=04`: that starts the app, a broker, a Celery
worker and a mail server, and prints where /docs is and where mail goes.
Register with POST /users/register (an X-Tenant-ID header, acme or globex, is
needed on every /users route), then follow the task at GET /tasks/{task_id}
and read the email with `make mail`. This module is the app's table of
contents: resources in resources.py, exception handlers in errors.py, each
feature a router in routes/; the worker's side is in worker.py and tasks.py.
"""

from fastapi import FastAPI

from .api_docs import serve_docs_offline
from .errors import register_error_handlers
from .exercises import task_done, welcome_again
from .resources import lifespan
from .routes import analytics, health, products, profile_images, tasks, users

app = FastAPI(
    title="Storefront API",
    version="stage 04",
    summary="Celery: a welcome email sent by a worker, with retries, backoff and idempotency.",
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

# Your exercise routes. Until you write them, calling them answers 500 (NotImplementedError).
app.include_router(task_done.router)
app.include_router(welcome_again.router)

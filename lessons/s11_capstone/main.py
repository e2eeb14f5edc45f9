"""Stage 11: the capstone. The whole Storefront API, one production service run as several processes.

Serve it with `make serve LESSON=11` and open /docs. Click Authorize and log in
as admin@acme.example (password: storefront-demo-admin, client_id: acme; tick
the scopes you want): the admin routes of acme are open to you. A new user is a
customer; PUT /admin/users/{user_id}/role makes them staff or admin. Every
/users route needs an X-Tenant-ID header. This module is the app's table
of contents: resources in resources.py, exception handlers in errors.py, each
feature a router in routes/.
"""

from fastapi import FastAPI

from .api_docs import serve_docs_offline
from .correlation import CorrelateRequests
from .edge import GuardTheEdge
from .errors import register_error_handlers
from .exercises import restock, sign_out_everywhere
from .problems import PROBLEM_RESPONSES
from .request_labels import LabelRequests
from .resources import lifespan
from .routes import (
    admin,
    analytics,
    auth,
    cache_health,
    email_confirmation,
    health,
    orders,
    payments,
    pool_health,
    probes,
    products,
    profile_images,
    tasks,
    users,
)
from .settings import get_settings

app = FastAPI(
    title="Storefront API",
    version="stage 11",
    summary="The Storefront API: tenants, accounts, products, orders, payments, images and emails, run as a service.",
    lifespan=lifespan,
    # Tracebacks in error answers: off unless WORKBOOK_DEBUG says so, and refused in production.
    debug=get_settings().debug,
    # The CDN pages off: api_docs.py serves /docs and /redoc from installed files.
    docs_url=None,
    redoc_url=None,
    # The Authorize dialog opens with client_id (the tenant) filled in, and a reload keeps the log-in.
    swagger_ui_init_oauth={"clientId": "acme"},
    swagger_ui_parameters={"persistAuthorization": True},
    # Every route's errors, described as they are sent: problem details (errors.py).
    responses=PROBLEM_RESPONSES,
)
serve_docs_offline(app)
register_error_handlers(app)
# Every request labelled ("GET /products"), so the pool can tell who holds each connection.
app.add_middleware(LabelRequests)
# Around everything but the edge: a correlation id bound before any of the request's code runs,
# in every log line of the request and its X-Correlation-ID response header (correlation.py).
app.add_middleware(CorrelateRequests)
# Outermost: a Host not allowed, or a browser origin not trusted, stops here (edge.py).
app.add_middleware(GuardTheEdge)

# The product read first: a request tries the routers in this order, and that one is the most asked for.
app.include_router(products.router)
app.include_router(health.router)
app.include_router(probes.router)
app.include_router(pool_health.router)
app.include_router(cache_health.router)
app.include_router(auth.router)
app.include_router(users.router)
app.include_router(email_confirmation.router)
app.include_router(admin.router)
app.include_router(profile_images.router)
app.include_router(analytics.router)
app.include_router(tasks.router)
app.include_router(payments.router)
app.include_router(orders.router)

# Your exercise routes. Until you write them, calling them answers 500 (NotImplementedError).
app.include_router(restock.router)
app.include_router(sign_out_everywhere.router)

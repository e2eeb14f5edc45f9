"""/docs and /redoc served from this machine, so that they work with no internet.

FastAPI's own pages fetch Swagger UI and ReDoc from a CDN and the favicon from
FastAPI's website: in an offline or firewalled room /docs is a blank white page.
The fastapi-offline package ships the same files, so the app serves them itself
and builds the pages with FastAPI's own helpers, pointed at those copies.

An app opts in with `FastAPI(docs_url=None, redoc_url=None, ...)`, which switches
the CDN pages off, then `serve_docs_offline(app)`. What the app passes to
Swagger UI (`swagger_ui_parameters`, `swagger_ui_init_oauth`) still applies.
"""

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

# swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js and favicon.png, installed by the lock.
ASSET_DIRECTORY = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs-assets"


def serve_docs_offline(app: FastAPI, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """Add Swagger UI at `docs_url`, its OAuth2 redirect page and ReDoc at `redoc_url`, all local."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSET_DIRECTORY), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = app.swagger_ui_oauth2_redirect_url or f"{docs_url}/oauth2-redirect"

    # `async def` although nothing here awaits: building a page is quick and
    # blocks nothing, so it need not take a thread from the pool.
    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = root_path(request)
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=root + redirect_url,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            # validatorUrl None: Swagger UI would otherwise send the description to
            # validator.swagger.io for its badge. The app's own parameters come last, so they win.
            swagger_ui_parameters={"validatorUrl": None, **(app.swagger_ui_parameters or {})},
        )

    # Where the Authorize dialog returns after a redirect-based flow; a page with no assets.
    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(redoc_url, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = root_path(request)
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            # ReDoc's page would load its fonts from Google; the system's fonts read just as well.
            with_google_fonts=False,
        )


def root_path(request: Request) -> str:
    """The prefix a reverse proxy serves the app under ('' when there is none), as FastAPI's own pages use it."""
    return request.scope.get("root_path", "").rstrip("/")

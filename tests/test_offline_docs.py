"""/docs and /redoc work with no internet: every page and everything it loads comes from the app itself."""

import importlib
import re
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

from workbook.stages import load_stages

STAGES = load_stages()
PAGES = ("/docs", "/redoc", "/docs/oauth2-redirect")

# Where a page names something for the browser to fetch: src="..." and href="..." in the HTML,
# url(...) and @import in CSS, and the description Swagger UI loads (`url: '/openapi.json'`).
LOADED = [
    re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']"""),
    re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)"""),
    re.compile(r"""@import\s+["']([^"']+)["']"""),
    re.compile(r"""\burl:\s*["']([^"']+)["']"""),
]


def by_number(stage):
    return stage.number


def loaded_urls(text: str) -> list[str]:
    return [url for pattern in LOADED for url in pattern.findall(text) if not url.startswith(("data:", "#"))]


def app_of(stage):
    module, _, name = stage.app.partition(":")
    return getattr(importlib.import_module(module), name)


@pytest.fixture(params=STAGES, ids=by_number)
def client(request):
    # No `with`: the lifespan does not run, and these pages need nothing it builds.
    return TestClient(app_of(request.param), base_url="http://127.0.0.1")


def test_the_docs_pages_and_everything_they_load_come_from_the_app(client):
    fetched: dict[str, int] = {}
    waiting = list(PAGES)
    while waiting:
        path = waiting.pop()
        if path in fetched:
            continue
        response = client.get(path)
        fetched[path] = response.status_code
        kind = response.headers["content-type"]
        if "text/html" in kind:
            # A page names no outside host at all, not even in a link the user might follow.
            assert not re.search(r"https?://|//fonts\.|cdn\.", response.text), (path, response.text[:2000])
        if "text/html" in kind or "text/css" in kind:
            # (The stylesheet does mention www.w3.org, as the XML namespace of its inline SVG images.)
            for url in loaded_urls(response.text):
                parts = urlsplit(urljoin(f"http://127.0.0.1{path}", url))
                assert parts.netloc == "127.0.0.1", f"{path} loads {url} from another host"
                waiting.append(parts.path)
    assert fetched == dict.fromkeys(fetched, 200), fetched
    # What was followed: the pages, Swagger UI's and ReDoc's scripts, Swagger UI's CSS, the favicon, the description.
    assert {
        "/openapi.json",
        "/docs-assets/swagger-ui-bundle.js",
        "/docs-assets/swagger-ui.css",
        "/docs-assets/redoc.standalone.js",
        "/docs-assets/favicon.png",
    } <= fetched.keys()


def test_swagger_ui_is_not_asked_to_send_the_description_to_the_online_validator(client):
    assert '"validatorUrl": null' in client.get("/docs").text


def test_the_assets_are_not_in_the_api_description(client):
    assert not [path for path in client.get("/openapi.json").json()["paths"] if "docs" in path]

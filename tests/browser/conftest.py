"""The browser tier: the system's Chromium, driven by Playwright, against a stage served by uvicorn.

No browser is downloaded: Playwright launches the Chromium that the operating
system's package manager installed (Debian: `apt-get install chromium`), at
WORKBOOK_CHROMIUM or else /usr/bin/chromium. Where there is none the tests skip
and say so, except under CI, which installs it (.ci/run) and so must never skip.
`make test-browser` runs this tier; `make test` leaves it out (the `browser` marker).
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from lessons.s07_authorization.main import app
from lessons.s07_authorization.settings import get_settings

from ..stage_apps import StageApp

CHROMIUM = Path(os.environ.get("WORKBOOK_CHROMIUM", "/usr/bin/chromium"))
# Nothing the browser does on its own (updates, sync, first-run pages) may reach
# for the network: the tests must pass with none, and prove the pages need none.
QUIET = ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
STAGE_07 = StageApp(app, "lessons.s07_authorization.main:app", get_settings)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"no Chromium at {CHROMIUM}: install it (Debian: apt-get install chromium) or set WORKBOOK_CHROMIUM"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # Chromium's sandbox will not start as root (a container, a CI runner); elsewhere it stays on.
    args = QUIET + (["--no-sandbox"] if os.geteuid() == 0 else [])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def stage_07() -> Iterator[str]:
    """Stage 07 served by uvicorn on loopback, as `make serve` would (minus the worker); yields its URL."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBOOK_BCRYPT_ROUNDS", "4")  # a real bcrypt hash, at its cheapest cost
        with STAGE_07.running() as url:
            yield url


@dataclass
class Visit:
    """A page of a fresh browser context (no stored log-in), and every URL it has requested."""

    page: Page
    app_url: str
    requested: list[str] = field(default_factory=list)

    def elsewhere(self) -> list[str]:
        """The requests that went anywhere but the served app: a script, font or badge from a CDN, say."""
        app_host = urlsplit(self.app_url).netloc
        # data: and blob: URLs are the page's own memory, not the network.
        network = [url for url in self.requested if urlsplit(url).scheme not in ("data", "blob")]
        return [url for url in network if urlsplit(url).netloc != app_host]


@pytest.fixture
def visit(chromium: Browser, stage_07: str) -> Iterator[Visit]:
    context = chromium.new_context()
    # Every step here is local and quick; a generous bound that still fails well before pytest's patience does.
    context.set_default_timeout(15_000)
    visit = Visit(context.new_page(), stage_07)
    context.on("request", lambda request: visit.requested.append(request.url))
    yield visit
    context.close()

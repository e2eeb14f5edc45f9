"""Stage 07's /docs in a real browser: log in with the Authorize dialog, call a route, read the answer.

Swagger UI is a JavaScript application: a test over HTTP shows that its files
answer, not that the page works. Here Chromium loads it, with no internet to
fall back on, and a learner's steps are replayed click by click.
"""

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import Visit

pytestmark = pytest.mark.browser

ADMIN = "admin@acme.example"
ADMIN_PASSWORD = "storefront-demo-admin"


def authorize(page: Page, username: str, password: str, client_id: str = "acme") -> Locator:
    """Open the Authorize dialog, fill in the password flow's form, submit it; the dialog stays open."""
    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".modal-ux")
    dialog.get_by_label("username:", exact=True).fill(username)
    dialog.get_by_label("password:", exact=True).fill(password)
    dialog.get_by_label("client_id:", exact=True).fill(client_id)
    dialog.get_by_role("button", name="Apply given OAuth2 credentials").click()  # the dialog's Authorize
    return dialog


def test_the_dialog_names_the_demo_log_in(visit: Visit):
    visit.page.goto(f"{visit.app_url}/docs")
    visit.page.get_by_role("button", name="Authorize").first.click()
    dialog = visit.page.locator(".modal-ux")
    for shown in (ADMIN, ADMIN_PASSWORD, "client_id"):
        expect(dialog).to_contain_text(shown)
    assert visit.elsewhere() == []


def test_log_in_then_try_it_out_on_users_me(visit: Visit):
    page = visit.page
    page.goto(f"{visit.app_url}/docs")
    dialog = authorize(page, ADMIN, ADMIN_PASSWORD)
    # Logged in: the dialog says so, and its Authorize button has become Logout.
    expect(dialog.get_by_text("Authorized", exact=True)).to_be_visible()
    expect(dialog.get_by_role("button", name="Remove authorization")).to_be_visible()
    dialog.get_by_role("button", name="Close").click()

    operation = page.locator('.opblock-get:has(.opblock-summary-path[data-path="/users/me"])')
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    # Every /users route needs the tenant; the dialog's client_id does not travel with API calls.
    operation.locator('tr[data-param-name="X-Tenant-ID"] input').fill("acme")
    operation.get_by_role("button", name="Execute").click()

    answer = operation.locator(".live-responses-table .response")
    expect(answer.locator(".response-col_status")).to_have_text("200")
    expect(answer.locator(".response-col_description")).to_contain_text(f'"email": "{ADMIN}"')
    assert visit.elsewhere() == []


def test_a_wrong_password_is_reported_in_the_dialog_with_its_reason(visit: Visit):
    visit.page.goto(f"{visit.app_url}/docs")
    dialog = authorize(visit.page, ADMIN, "not the password")
    errors = dialog.locator(".errors")
    expect(errors).to_contain_text("invalid_grant")
    expect(errors).to_contain_text("Incorrect email or password")
    expect(dialog.get_by_role("button", name="Remove authorization")).to_have_count(0)  # not logged in
    assert visit.elsewhere() == []

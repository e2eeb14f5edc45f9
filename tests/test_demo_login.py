"""The demo log-in, printed by `make serve` for the stages that have one, is one that works."""

import importlib
import re

import pytest
from fastapi.testclient import TestClient

from workbook import demo_login
from workbook.stages import load_stages

STAGES = load_stages()
WITH_LOG_IN = [stage for stage in STAGES if demo_login.has_log_in(stage)]


def by_number(stage):
    return stage.number


def test_the_stages_with_log_in_are_06_and_later():
    assert [stage.number for stage in WITH_LOG_IN] == [s.number for s in STAGES if s.number >= "06"]
    assert demo_login.banner(STAGES[0]) == []


@pytest.mark.parametrize("stage", WITH_LOG_IN, ids=by_number)
def test_each_printed_log_in_opens_its_tenant(stage, monkeypatch):
    monkeypatch.setenv("WORKBOOK_BCRYPT_ROUNDS", "4")
    lines = demo_login.banner(stage)
    accounts = [re.fullmatch(r"\s+username (\S+)  password (\S+)  client_id (\S+)", line) for line in lines[1:]]
    assert all(accounts) and len(accounts) == 2, lines
    app = importlib.import_module(f"lessons.{stage.package}.main").app
    get_settings = importlib.import_module(f"lessons.{stage.package}.settings").get_settings
    get_settings.cache_clear()  # this test's environment, not an earlier one's
    with TestClient(app) as client:
        for username, password, tenant in (account.groups() for account in accounts):
            # As the Authorize dialog sends it: the tenant as client_id, no X-Tenant-ID header.
            form = {"grant_type": "password", "username": username, "password": password, "client_id": tenant}
            response = client.post("/token", data=form)
            assert response.status_code == 200, (username, tenant, response.text)
    get_settings.cache_clear()


def test_a_password_of_your_own_is_not_printed(monkeypatch):
    monkeypatch.setenv("WORKBOOK_DEMO_ADMIN_PASSWORD", "chosen by the instructor")
    lines = demo_login.banner(WITH_LOG_IN[-1])
    assert not any("chosen by the instructor" in line for line in lines)
    assert "password the value of WORKBOOK_DEMO_ADMIN_PASSWORD" in lines[1]


def test_without_demo_admins_the_banner_says_so(monkeypatch):
    monkeypatch.setenv("WORKBOOK_SEED_DEMO_ADMINS", "false")
    assert demo_login.banner(WITH_LOG_IN[-1]) == [
        "No demo admins (WORKBOOK_SEED_DEMO_ADMINS is off): register a user, then log in as them."
    ]

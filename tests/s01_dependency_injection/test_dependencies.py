"""How stage 01's dependencies behave: caching, scope, order, and the graph."""

from collections import Counter
from typing import Annotated

from fastapi import Depends, Request
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from lessons.s01_dependency_injection import dependencies
from lessons.s01_dependency_injection.main import app
from lessons.s01_dependency_injection.models import AuditEvent, User
from lessons.s01_dependency_injection.services import AuditLog
from lessons.s01_dependency_injection.settings import Settings, get_settings
from workbook.dependency_tree import dependency_tree

ADA = {"email": "ada@example.com", "name": "Ada Lovelace"}


def count_sessions(calls: Counter):
    """An override of get_session that counts how often FastAPI calls it."""

    def counted_session(request: Request):
        calls["get_session"] += 1
        yield from dependencies.get_session(request)

    app.dependency_overrides[dependencies.get_session] = counted_session


def test_one_session_per_request_although_two_providers_ask_for_it(client):
    calls = Counter()
    count_sessions(calls)
    client.post("/users", json=ADA)
    client.get("/users/ada@example.com")
    assert calls["get_session"] == 2  # one per request, not one per provider


def test_use_cache_false_opens_a_second_session_and_the_audit_event_is_lost(client, rows):
    calls = Counter()
    count_sessions(calls)

    def audit_log_with_its_own_session(
        session: Annotated[Session, Depends(dependencies.get_session, use_cache=False)],
    ) -> AuditLog:
        return AuditLog(session)

    app.dependency_overrides[dependencies.get_audit_log] = audit_log_with_its_own_session
    assert client.post("/users", json=ADA).status_code == 201
    assert calls["get_session"] == 2
    # The service committed its own session; the audit event sat in the other one.
    assert (rows(User), rows(AuditEvent)) == (1, 0)


def test_settings_are_built_once_for_the_whole_app(stage_env, monkeypatch):
    monkeypatch.setenv("WORKBOOK_APP_NAME", "Acme Shop")
    get_settings.cache_clear()
    try:
        assert get_settings() is get_settings()
        assert get_settings().app_name == "Acme Shop"
    finally:
        get_settings.cache_clear()


def test_overriding_get_settings_reaches_every_provider_that_uses_it(client, capsys):
    app.dependency_overrides[get_settings] = lambda: Settings(app_name="Overridden Shop")
    client.get("/users/nobody@example.com")
    assert "app='Overridden Shop'" in capsys.readouterr().out


def test_code_after_yield_runs_after_the_response_is_sent(stage_env):
    events: list[str] = []

    def recorded_session(request: Request):
        events.append("session opened")
        yield from dependencies.get_session(request)
        events.append("code after yield")

    async def recording_app(scope, receive, send):
        async def recording_send(message):
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                events.append("response sent")

        await app(scope, receive, recording_send)

    app.dependency_overrides[dependencies.get_session] = recorded_session
    get_settings.cache_clear()
    try:
        with TestClient(recording_app) as client:
            assert client.post("/users", json=ADA).status_code == 201
    finally:
        app.dependency_overrides.clear()
    assert events == ["session opened", "response sent", "code after yield"]


def test_the_dependency_graph_of_post_users():
    assert dependency_tree(app, "POST", "/users") == "\n".join(
        [
            "POST /users -> register_user",
            "└── get_user_service",
            "    ├── get_session",
            "    ├── get_audit_log",
            "    │   └── get_session  (cached: the value built above is reused)",
            "    └── get_logger",
            "        └── get_settings",
        ]
    )

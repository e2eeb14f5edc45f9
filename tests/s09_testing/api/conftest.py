"""Fixtures of the API level: overrides that always clear what they set, and Ada logged in both ways.

The app itself comes from the `client` fixture (tests/auth_fixtures.py): stage 09
in a TestClient used as a context manager, so its lifespan runs (test_lifespan.py
shows what happens without).
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lessons.s09_testing.authentication import get_current_user

from ...auth_helpers import ACME, ADA, bearer, log_in, register, stored_user
from ...stage_apps import StageApp

Override = Callable[[Callable[..., Any], Callable[..., Any]], None]


@pytest.fixture
def override(stage_app: StageApp) -> Iterator[Override]:
    """`override(dependency, provider)`: FastAPI calls `provider` wherever a route asks for `dependency`.

    Only for this test: afterwards each override it set is popped again. An
    override left behind leaks into every later test that uses the same app
    object (the app is a module-level global), and makes them pass or fail by the
    order they happen to run in.
    """
    overrides = stage_app.app.dependency_overrides
    set_here: list[Callable[..., Any]] = []

    def set_override(dependency: Callable[..., Any], provider: Callable[..., Any]) -> None:
        overrides[dependency] = provider
        set_here.append(dependency)

    yield set_override
    for dependency in set_here:
        overrides.pop(dependency, None)


@pytest.fixture
def ada_by_override(client: TestClient, override: Override) -> dict:
    """Ada's headers, with no token at all: whoever asks for the current user gets Ada.

    Fast (no log-in, no token checks), and blind to everything get_current_user
    checks: the token, its tenant, its scopes, its version. See test_authenticated_client.py.
    """
    register(client, ADA)
    ada = stored_user(client, ADA["email"])
    override(get_current_user, lambda: ada)
    return dict(ACME)


@pytest.fixture
def ada_by_token(client: TestClient) -> dict:
    """Ada's headers with a real access token from /token: slower, and honest."""
    register(client, ADA)
    return bearer(log_in(client, ADA["email"], ADA["password"])["access_token"])

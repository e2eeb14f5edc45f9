"""Statement timeouts on PostgreSQL: a runaway query is cancelled and answers 503, and the limit,
set per transaction, never leaks to the next user of a pooled connection (a session-level SET does).

They run against every stage whose API reports on its pool, each stage's app in turn.
"""

import time

import pytest
from sqlalchemy import func, select, text

from .auth_helpers import ACME
from .stage_apps import stage_app_fixture

stage_app = stage_app_fixture("/health/pool")

pytestmark = pytest.mark.services


@pytest.fixture
def postgres_url(services, database_url) -> str:
    if not services:
        pytest.skip("SQLite has no statement timeout: nothing cancels a slow query there (make test-services)")
    return database_url


class RunawayRepository:
    """A product repository whose list() runs a query that would take 30 seconds."""

    def __init__(self, session) -> None:
        self.session = session

    def list(self, *page):  # a repository that pages is asked for a limit and an offset
        self.session.execute(select(func.pg_sleep(30)))
        return []


def test_a_runaway_query_is_cancelled_and_answers_503(postgres_url, pool_env, stage_app, monkeypatch):
    monkeypatch.setenv("WORKBOOK_DATABASE_URL", postgres_url)
    monkeypatch.setenv("WORKBOOK_STATEMENT_TIMEOUT_MS", "300")
    dependencies = stage_app.module("dependencies")
    for client in stage_app.serve():

        def runaway(session: dependencies.SessionDep) -> RunawayRepository:
            return RunawayRepository(session)

        client.app.dependency_overrides[dependencies.get_product_repository] = runaway
        started = time.monotonic()
        response = client.get("/products", headers=ACME)
        took = time.monotonic() - started
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "1"
        assert took < 10, f"cancelled after {took:.1f} s, not left to run its 30 s"
        client.app.dependency_overrides.clear()
        # The pool has one connection: the request after it gets the same one, unharmed and unlimited outside.
        assert client.get("/products", headers=ACME).status_code == 200
        with client.app_state["pool"].engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar_one() == "0", "SET LOCAL ended"


def shown_timeout_on_next_checkout(engine) -> str:
    with engine.connect() as connection:
        return connection.execute(text("SHOW statement_timeout")).scalar_one()


def test_a_session_level_set_leaks_to_the_next_checkout_of_the_connection(postgres_url, stage_app):
    engine = stage_app.module("database").create_db_engine(postgres_url, pool={"pool_size": 1, "max_overflow": 0})
    try:
        # The pitfall: SET lasts as long as the connection, and the pool hands it on.
        with engine.connect() as connection:
            connection.execute(text("SET statement_timeout = 150"))
            connection.commit()
        assert shown_timeout_on_next_checkout(engine) == "150ms", "the next user inherits the limit"
    finally:
        engine.dispose()


def test_a_per_transaction_setting_ends_with_its_transaction(postgres_url, stage_app):
    engine = stage_app.module("database").create_db_engine(postgres_url, pool={"pool_size": 1, "max_overflow": 0})
    try:
        with engine.connect() as connection:
            connection.execute(select(func.set_config("statement_timeout", "150", True)))  # SET LOCAL
            assert connection.execute(text("SHOW statement_timeout")).scalar_one() == "150ms"
            connection.commit()
        assert shown_timeout_on_next_checkout(engine) == "0", "nothing left behind for the next user"
    finally:
        engine.dispose()

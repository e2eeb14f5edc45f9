"""The pitfalls stage 01 corrects, each shown failing and then fixed."""

import asyncio
import threading
from functools import lru_cache
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from lessons.s01_dependency_injection.database import Base, create_db_engine
from lessons.s01_dependency_injection.main import app
from lessons.s01_dependency_injection.models import User
from lessons.s01_dependency_injection.schemas import UserCreate, UserOut
from lessons.s01_dependency_injection.settings import get_settings

ADA = {"email": "ada@example.com", "name": "Ada Lovelace"}


def _refuse(session):
    raise RuntimeError("the database refused the commit")


def test_pitfall_commit_after_yield_answers_201_for_a_write_that_never_happened():
    engine = create_db_engine("sqlite://")
    Base.metadata.create_all(engine)
    sessions = sessionmaker(engine)
    event.listen(sessions, "before_commit", _refuse)

    def get_session_committing_after_yield():
        session = sessions()
        try:
            yield session
            session.commit()  # runs after the response has gone out
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()

    demo = FastAPI()

    @demo.post("/users", status_code=201)
    def register(body: UserCreate, session: Annotated[Session, Depends(get_session_committing_after_yield)]) -> UserOut:
        user = User(email=body.email, name=body.name)
        session.add(user)
        session.flush()  # sends the INSERT so the id is known; the commit is left to the dependency
        return user

    with TestClient(demo, raise_server_exceptions=False) as client:
        response = client.post("/users", json=ADA)
    assert response.status_code == 201  # the client is told it worked...
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0  # ...but nothing was stored


@pytest.mark.services
def test_fixed_commit_before_returning_turns_a_refused_commit_into_an_error(client, rows):
    event.listen(client.app_state["sessions"], "before_commit", _refuse)
    with pytest.raises(RuntimeError, match="refused the commit"):
        client.post("/users", json=ADA)
    assert rows(User) == 0


def test_pitfall_basesettings_is_no_longer_in_pydantic():
    with pytest.raises(ImportError, match="pydantic-settings"):
        from pydantic import BaseSettings  # noqa: F401


def test_pitfall_lru_cache_on_async_def_caches_a_coroutine():
    @lru_cache
    async def cached_settings():
        return {"app_name": "Storefront API"}

    async def call_twice():
        await cached_settings()
        await cached_settings()  # the same, already awaited, coroutine object

    with pytest.raises(RuntimeError, match="cannot reuse already awaited coroutine"):
        asyncio.run(call_twice())


def test_fixed_lru_cache_on_a_plain_function_returns_one_object(stage_env):
    get_settings.cache_clear()
    assert get_settings() is get_settings()
    get_settings.cache_clear()


def test_pitfall_testclient_without_with_never_runs_the_lifespan(stage_env):
    get_settings.cache_clear()
    client = TestClient(app)
    with pytest.raises(AttributeError, match="sessions"):
        client.post("/users", json=ADA)


def test_fixed_testclient_with_with_runs_the_lifespan(stage_env):
    get_settings.cache_clear()
    with TestClient(app) as client:
        assert client.post("/users", json=ADA).status_code == 201


def _count_users_in_another_thread(engine) -> str:
    result = {}

    def work():
        try:
            with engine.connect() as connection:
                result["value"] = connection.execute(text("SELECT count(*) FROM users")).scalar_one()
        except OperationalError as error:
            result["value"] = str(error.orig)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return result["value"]


def test_pitfall_in_memory_sqlite_without_staticpool_is_a_new_empty_database_per_connection():
    # The default pool gives each thread its own connection (check_same_thread=False
    # only lets one connection cross threads; it does not share one).
    engine = create_engine("sqlite://", connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    # FastAPI runs `def` routes in worker threads: they would find no tables at all.
    assert _count_users_in_another_thread(engine) == "no such table: users"


def test_fixed_staticpool_shares_the_one_in_memory_database():
    engine = create_db_engine("sqlite://")
    Base.metadata.create_all(engine)
    assert _count_users_in_another_thread(engine) == 0

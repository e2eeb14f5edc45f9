"""Ports and adapters: both UserRepository adapters keep the same contract, and the
service runs on either, chosen by overriding one dependency."""

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from lessons.s02_advanced_dependencies.database import create_db_engine, create_tenant_tables
from lessons.s02_advanced_dependencies.dependencies import get_user_repository
from lessons.s02_advanced_dependencies.main import app
from lessons.s02_advanced_dependencies.models import User
from lessons.s02_advanced_dependencies.repositories import (
    EmailAlreadyRegistered,
    InMemoryUserRepository,
    SqlAlchemyUserRepository,
    UserRepository,
)

from .conftest import ACME, GLOBEX

ADA = {"email": "ada@example.com", "name": "Ada Lovelace"}


@pytest.fixture(params=["sqlalchemy", "in-memory"])
def repository(request, database_url) -> Iterator[UserRepository]:
    if request.param == "in-memory":
        yield InMemoryUserRepository()
        return
    engine = create_db_engine(database_url, schemas=["tenant_test"])
    with Session(create_tenant_tables(engine, "tenant_test")) as session:
        yield SqlAlchemyUserRepository(session)
    engine.dispose()


@pytest.mark.services
def test_add_gives_ids_in_order_and_list_all_keeps_it(repository):
    for name in ("Grace", "Ada", "Edsger"):
        repository.add(User(email=f"{name.lower()}@example.com", name=name))
    repository.commit()
    assert [(user.id, user.name) for user in repository.list_all()] == [(1, "Grace"), (2, "Ada"), (3, "Edsger")]


@pytest.mark.services
def test_get_by_email_finds_a_user_or_answers_none(repository):
    repository.add(User(**ADA))
    assert repository.get_by_email("ada@example.com").name == "Ada Lovelace"
    assert repository.get_by_email("nobody@example.com") is None


@pytest.mark.services
def test_a_second_user_with_the_same_email_is_refused(repository):
    repository.add(User(**ADA))
    with pytest.raises(EmailAlreadyRegistered, match="ada@example.com"):
        repository.add(User(**ADA))


@pytest.mark.services
def test_delete_removes_the_user(repository):
    user = repository.add(User(**ADA))
    repository.delete(user)
    repository.commit()
    assert (repository.get_by_email("ada@example.com"), repository.list_all()) == (None, [])


def test_the_service_runs_on_the_in_memory_adapter_through_an_override(client, rows):
    memory = InMemoryUserRepository()
    app.dependency_overrides[get_user_repository] = lambda: memory
    assert client.post("/users", json=ADA, headers=ACME).json() == {"id": 1, **ADA}
    assert client.get("/users/ada@example.com", headers=ACME).json() == {"id": 1, **ADA}
    assert client.post("/users", json=ADA, headers=ACME).status_code == 409
    assert [user.email for user in memory.list_all()] == ["ada@example.com"]
    assert rows(User) == 0  # the database was never written


def test_without_the_override_the_app_uses_the_database(client, rows):
    client.post("/users", json=ADA, headers=GLOBEX)
    assert rows(User, "globex") == 1

"""Alembic migrations, per tenant schema: they build what the models describe, go down and up
again, run as `make migrate` on a fresh database, and the app refuses a schema behind head when
told not to migrate. On a SQLite file (each tenant an attached file) by default; with --services,
on a fresh PostgreSQL database."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Engine, String, inspect

from workbook.stages import ROOT

from ..stack_tiers import postgres_database

pytestmark = pytest.mark.services

TENANTS = ["acme", "globex", "initech"]
SCHEMAS = [f"tenant_{tenant}" for tenant in TENANTS]


@pytest.fixture
def migrations(stage_app):
    return stage_app.module("schema_migrations")


@pytest.fixture
def fresh_url(services, tmp_path) -> Iterator[str]:
    """A database nothing has touched: a SQLite file (and one beside it per tenant), or PostgreSQL."""
    if not services:
        yield f"sqlite:///{tmp_path / 'shop.db'}"
        return
    with postgres_database() as url:
        yield url


@pytest.fixture
def engine(stage_app, fresh_url) -> Iterator[Engine]:
    database = stage_app.module("database")
    engine = database.create_db_engine(fresh_url, schemas=SCHEMAS)
    yield engine
    engine.dispose()


def tables(engine: Engine, schema: str) -> set[str]:
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names(schema=schema))


def revisions(migrations, engine: Engine, schema: str) -> set[str]:
    with engine.connect() as connection:
        return migrations.current_revisions(connection, schema)


def differences(migrations, engine: Engine, schema: str) -> list:
    with engine.connect() as connection:
        return migrations.schema_differences(connection, schema)


def test_the_migrations_build_each_tenant_schema_exactly_as_the_models_describe_it(migrations, engine):
    for schema in SCHEMAS:
        migrations.migrate_schema(engine, schema)
    for schema in SCHEMAS:
        found = differences(migrations, engine, schema)
        assert found == [], (
            f"{schema} differs from the models: {found}. A model changed without a migration:"
            f" run {migrations.REVISION_COMMAND}, read the file it writes, and commit it with the model"
        )
        assert revisions(migrations, engine, schema) == migrations.head_revisions(), f"{schema} is not at head"
        assert "alembic_version" in tables(engine, schema), f"{schema} keeps no version table of its own"


def test_a_model_changed_without_a_migration_is_caught_by_the_comparison(migrations, engine):
    """The comparison above can fail: a column the models gained and no revision adds is named."""
    for schema in SCHEMAS:
        migrations.migrate_schema(engine, schema)
    wanted = migrations.tenant_metadata("tenant_acme")
    wanted.tables["tenant_acme.users"].append_column(Column("phone", String(20), nullable=True))
    with engine.connect() as connection:
        found = migrations.schema_differences(connection, "tenant_acme", wanted)
    assert [(change[0], change[2], change[3].name) for change in found] == [("add_column", "users", "phone")], (
        f"the comparison should name the one column no migration adds, found {found}"
    )


def test_each_schema_goes_down_to_base_and_up_to_head_again(migrations, engine):
    for schema in SCHEMAS:
        migrations.migrate_schema(engine, schema)
    with engine.begin() as connection:
        migrations.downgrade(connection, "tenant_acme")
    assert tables(engine, "tenant_acme") == {"alembic_version"}, "down to base leaves only the version table"
    assert revisions(migrations, engine, "tenant_acme") == set(), "at base, a schema is at no revision"
    assert revisions(migrations, engine, "tenant_globex") == migrations.head_revisions(), (
        "downgrading one tenant must leave the others alone"
    )
    migrations.migrate_schema(engine, "tenant_acme")
    assert revisions(migrations, engine, "tenant_acme") == migrations.head_revisions()
    assert differences(migrations, engine, "tenant_acme") == [], "up again, the schema is as the models describe it"


def test_a_revision_written_from_the_models_builds_what_they_describe(migrations, engine, tmp_path, monkeypatch):
    """`migrate revision` on migrations that have none yet: the file it writes names the tenant's
    schema through the variable `schema`, never the models' placeholder, and builds every table."""
    scratch = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS, scratch, ignore=shutil.ignore_patterns("0*.py", "__pycache__"))
    monkeypatch.setattr(migrations, "MIGRATIONS", scratch)
    written = migrations.write_revision("every table")
    assert written.parent == scratch / "versions" and written.name == "0001_every_table.py"
    source = written.read_text()
    assert "schema=schema" in source and 'f"{schema}.users.id"' in source, source
    assert f'"{migrations.TENANT_SCHEMA}' not in source, f"the placeholder schema is left in:\n{source}"
    for schema in SCHEMAS:
        migrations.migrate_schema(engine, schema)
        assert differences(migrations, engine, schema) == [], f"{schema} differs from the models"


def migrate_command(database_url: str, *arguments: str) -> subprocess.CompletedProcess:
    """What `make migrate` runs, in a process of its own, with the app's settings from the environment."""
    env = {**os.environ, "WORKBOOK_DATABASE_URL": database_url, "WORKBOOK_TENANTS": json.dumps(TENANTS)}
    command = [sys.executable, "-m", "lessons.s11_capstone.migrate", *arguments]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_make_migrate_brings_every_tenant_of_a_fresh_database_to_head(migrations, engine, fresh_url):
    head = ", ".join(sorted(migrations.head_revisions()))
    for run in ("first", "second"):  # the second finds everything at head and changes nothing
        done = migrate_command(fresh_url)
        assert done.returncode == 0, f"the {run} run failed:\n{done.stdout}\n{done.stderr}"
        for schema in SCHEMAS:
            assert f"{schema}: at {head}\n" in done.stdout, f"{schema} not reported at {head}:\n{done.stdout}"
    for schema in SCHEMAS:
        assert revisions(migrations, engine, schema) == migrations.head_revisions()
        assert differences(migrations, engine, schema) == []


def test_make_migrate_says_the_app_migrates_an_in_memory_database_itself():
    done = migrate_command("sqlite://")
    assert done.returncode == 2, "nothing to migrate in a database that dies with the command"
    assert "the app migrates it itself at start-up" in done.stdout


def test_the_makefile_runs_the_migrate_command():
    recipe = subprocess.run(["make", "-n", "migrate"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "workbook migrate 11" in recipe, f"make migrate should run stage 11's migrations by default:\n{recipe}"


@pytest.fixture
def shop_env(auth_env, fresh_url, monkeypatch) -> None:
    monkeypatch.setenv("WORKBOOK_DATABASE_URL", fresh_url)
    monkeypatch.setenv("WORKBOOK_TENANTS", json.dumps(TENANTS))


def test_an_app_that_does_not_migrate_refuses_a_schema_behind_head(
    migrations, stage_app, engine, shop_env, monkeypatch
):
    monkeypatch.setenv("WORKBOOK_MIGRATE_AT_STARTUP", "false")
    with pytest.raises(migrations.SchemaNotAtHead) as refused:
        next(stage_app.serve())
    assert "tenant_acme is at revision none" in str(refused.value) and "make migrate" in str(refused.value)
    assert tables(engine, "tenant_acme") == set(), "refusing must leave the schema as it was"
    for schema in SCHEMAS:
        migrations.migrate_schema(engine, schema)
    with engine.begin() as connection:
        migrations.downgrade(connection, "tenant_globex")  # one tenant left behind
    with pytest.raises(migrations.SchemaNotAtHead, match="tenant_globex is at revision none"):
        next(stage_app.serve())
    migrations.migrate_schema(engine, "tenant_globex")
    for client in stage_app.serve():
        assert client.get("/products", headers={"X-Tenant-ID": "globex"}).status_code == 200


def test_the_app_migrates_at_start_up_a_tenant_added_after_the_others(migrations, stage_app, engine, shop_env):
    for schema in SCHEMAS[:2]:
        migrations.migrate_schema(engine, schema)
    assert revisions(migrations, engine, "tenant_initech") == set()
    for client in stage_app.serve():
        assert client.get("/products", headers={"X-Tenant-ID": "initech"}).status_code == 200
    assert revisions(migrations, engine, "tenant_initech") == migrations.head_revisions()
    assert differences(migrations, engine, "tenant_initech") == []

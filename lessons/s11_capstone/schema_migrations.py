"""Alembic migrations, run in every tenant's schema: at start-up, or as a release step.

The revisions are the files of migrations/versions/, applied in order. Each
tenant's schema (on SQLite, its attached database) holds its own copy of the
tables and its own `alembic_version` table, so each is migrated in turn and a
tenant added later starts at the first revision while the others carry on.

The app migrates every schema to the newest revision, the head, when it starts,
and that is the default for two reasons: the embedded default is an in-memory
SQLite database born empty in each process, which only that process can
migrate; and one command still starts the whole service. Several processes
starting at once on a fresh PostgreSQL database do not race: each migrates in a
transaction that holds the start-up advisory lock (database.py), so one
migrates while the others wait, then find every schema at head and change
nothing.

A deployment that migrates as a release step (`make migrate`, once, before the
new processes start) sets WORKBOOK_MIGRATE_AT_STARTUP=false. The app then only
checks: a schema that is not at head makes it refuse to start, naming `make
migrate`, rather than serve tables that differ from its models.
"""

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Index, MetaData
from sqlalchemy.schema import CreateSchema

from . import models
from .database import TENANT_SCHEMA, create_db_engine, hold_startup_lock

MIGRATIONS = Path(__file__).with_name("migrations")
# What `make migrate` runs, named in every message that asks for it.
MIGRATE_COMMAND = f"make migrate (python -m {__package__}.migrate)"
REVISION_COMMAND = f'python -m {__package__}.migrate revision -m "what changed"'


class SchemaNotAtHead(RuntimeError):
    """A tenant's schema is at another revision than the code's models: serving it would fail mid-request."""


def alembic_config(connection: Connection, schema: str, metadata: MetaData | None = None) -> Config:
    """Alembic's configuration, made in code: where the revisions are, and what env.py works on."""
    config = Config(attributes={"connection": connection, "schema": schema, "metadata": metadata})
    config.set_main_option("script_location", str(MIGRATIONS))
    # New revision files are named 0002_add_a_phone_number.py: their order shows in a listing.
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    return config


def head_revisions() -> set[str]:
    return set(ScriptDirectory(str(MIGRATIONS)).get_heads())


def current_revisions(connection: Connection, schema: str) -> set[str]:
    """The revisions `schema` is at: empty for a schema never migrated (or missing)."""
    context = MigrationContext.configure(connection, opts={"version_table_schema": schema})
    return set(context.get_current_heads())


def upgrade(connection: Connection, schema: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(connection, schema), revision)


def downgrade(connection: Connection, schema: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(connection, schema), revision)


def migrate_schema(engine: Engine, schema: str) -> None:
    """Create `schema` if it is missing and bring it to head, under the start-up lock."""
    # One transaction: the lock, the schema, every revision (PostgreSQL's DDL is
    # transactional), the version table's update, then COMMIT, which lets the next process look.
    with engine.begin() as connection:
        hold_startup_lock(connection)
        if connection.dialect.name == "postgresql":
            connection.execute(CreateSchema(schema, if_not_exists=True))
        upgrade(connection, schema)


def require_head(engine: Engine, schema: str) -> None:
    """Refuse a schema whose revision is not the code's head (behind it, or ahead of old code)."""
    with engine.connect() as connection:
        current = current_revisions(connection, schema)
    head = head_revisions()
    if current != head:
        raise SchemaNotAtHead(
            f"schema {schema} is at revision {_named(current)}, and this code needs {_named(head)}:"
            f" run {MIGRATE_COMMAND} against this database first"
        )


def _named(revisions: set[str]) -> str:
    return ", ".join(sorted(revisions)) or "none (never migrated)"


def tenant_metadata(schema: str) -> MetaData:
    """The models' tables as they should be in `schema`: copies, moved out of the placeholder schema.

    Foreign keys between them move too (`to_metadata` retargets a reference to the
    table's own schema).
    """
    metadata = MetaData()
    for table in models.Base.metadata.sorted_tables:
        copy = table.to_metadata(metadata, schema=schema)
        # An index named by convention (ix_tenant_orders_user_id) would be named again after
        # the new schema; every schema's index keeps the models' name, as the migrations do.
        names = {_columns(index): index.name for index in table.indexes}
        for index in copy.indexes:
            index.name = names[_columns(index)]
    return metadata


def _columns(index: Index) -> tuple[str, ...]:
    return tuple(column.name for column in index.columns)


def schema_differences(connection: Connection, schema: str, wanted: MetaData | None = None) -> list[Any]:
    """What Alembic finds between `schema` in the database and the models (or `wanted`): empty when they agree."""
    context = MigrationContext.configure(
        connection,
        opts={
            "version_table_schema": schema,
            "include_schemas": True,
            "include_name": lambda name, type_, parent_names: type_ != "schema" or name == schema,
        },
    )
    return compare_metadata(context, wanted if wanted is not None else tenant_metadata(schema))


def write_revision(message: str) -> Path:
    """Write the next revision from what the models have and the head lacks; returns its file.

    It compares against a scratch in-memory database migrated to head, in a schema
    named like the models' placeholder, so the ops come out naming the placeholder;
    each is then pointed at the variable `schema`, the tenant being migrated. Read
    the file before committing it: Alembic cannot tell a renamed column from a
    dropped one and a new one, for example.
    """
    engine = create_db_engine("sqlite://", schemas=[TENANT_SCHEMA])
    try:
        with engine.begin() as connection:
            upgrade(connection, TENANT_SCHEMA)
            config = alembic_config(connection, TENANT_SCHEMA, models.Base.metadata)
            script = command.revision(config, message, autogenerate=True, rev_id=_next_revision_id())
    finally:
        engine.dispose()
    assert script is not None and not isinstance(script, list)  # one revision, one file
    path = Path(script.path)
    path.write_text(_in_tenant_schema(path.read_text()))
    # Formatted and its imports sorted as the project's own files are (ruff: pyproject.toml).
    for ruff in (["format"], ["check", "--fix", "--select", "I,F401"]):
        subprocess.run([sys.executable, "-m", "ruff", *ruff, "--quiet", str(path)], check=False)
    return path


def _in_tenant_schema(source: str) -> str:
    # Alembic's "### commands ... ###" fences: the file is the project's own once reviewed.
    source = re.sub(r"\n *# ###[^\n]*###", "", source)
    quoted = rf"['\"]{TENANT_SCHEMA}"
    source = re.sub(rf"schema={quoted}['\"]", "schema=schema", source)
    return re.sub(rf"{quoted}\.", "f'{schema}.", source)  # a foreign key's target: 'tenant.users.id'


def _next_revision_id() -> str:
    numbers = [int(path.name[:4]) for path in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")]
    return f"{max(numbers, default=0) + 1:04d}"

"""Alembic's environment: run the revisions in ONE tenant's schema, on the connection it is handed.

schema_migrations.py calls Alembic once per tenant, with a connection already inside
the transaction that holds the start-up lock, and names the tenant's schema. Each
schema keeps its own `alembic_version` table, so every tenant is at a revision of
its own: a tenant added later starts from the first revision, the others carry on.
Nothing here opens a connection or reads a URL: there is no alembic.ini to keep in step.
"""

from alembic import context

config = context.config
if context.is_offline_mode():
    raise SystemExit("Offline (--sql) mode is not supported: run `make migrate` against a database.")

schema: str = config.attributes["schema"]
context.configure(
    connection=config.attributes["connection"],
    target_metadata=config.attributes["metadata"],
    # The tenant's own version table, in its own schema.
    version_table_schema=schema,
    # Compare (for a new revision) in this schema only: the other tenants' are not ours to change.
    include_schemas=True,
    include_name=lambda name, type_, parent_names: type_ != "schema" or name == schema,
)
# Inside the caller's transaction, Alembic starts none of its own: the caller commits.
with context.begin_transaction():
    context.run_migrations()

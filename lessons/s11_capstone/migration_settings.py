"""When the tenants' schemas are migrated: a part of Settings (settings.py).

Read with the rest, from WORKBOOK_* variables: WORKBOOK_MIGRATE_AT_STARTUP=false.
"""

from pydantic_settings import BaseSettings


class MigrationSettings(BaseSettings):
    # Bring every tenant's schema to the newest migration when the app (or the worker)
    # starts, under the start-up lock (schema_migrations.py). False for a deployment
    # that runs `make migrate` as a release step: the app then refuses to start on a
    # schema that is not at the newest migration, rather than serve it.
    migrate_at_startup: bool = True

"""`make migrate`: every tenant's schema brought to the newest migration, as a release step.

    python -m lessons.s11_capstone.migrate             # upgrade each tenant in WORKBOOK_TENANTS
    python -m lessons.s11_capstone.migrate current     # each tenant's revision, changing nothing
    python -m lessons.s11_capstone.migrate revision -m "add a phone number to users"

It reads the app's own settings (WORKBOOK_DATABASE_URL, WORKBOOK_TENANTS), so it
migrates exactly the database the app will serve. `revision` writes the next
file of migrations/versions/ from what the models have and the migrations lack.
"""

import argparse
import sys

from sqlalchemy import make_url

from .database import create_db_engine, is_in_memory
from .schema_migrations import current_revisions, head_revisions, migrate_schema, write_revision
from .settings import get_settings
from .tenancy import schema_for


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    actions = parser.add_subparsers(dest="action")
    actions.add_parser("upgrade", help="bring every tenant's schema to the newest revision (the default)")
    actions.add_parser("current", help="print each tenant's revision")
    revision = actions.add_parser("revision", help="write the next revision from the models")
    revision.add_argument("-m", "--message", required=True, help="what the revision changes, in a few words")
    args = parser.parse_args(argv)
    if args.action == "revision":
        print(f"wrote {write_revision(args.message)}: read it, then commit it with the model's change")
        return 0
    settings = get_settings()
    url = make_url(settings.database_url)
    if is_in_memory(url):
        print("WORKBOOK_DATABASE_URL is in-memory SQLite, which lives only as long as one process:")
        print("the app migrates it itself at start-up. Name a database to migrate, for example")
        print("WORKBOOK_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test make migrate")
        return 2
    schemas = [schema_for(tenant) for tenant in settings.tenants]
    engine = create_db_engine(settings.database_url, schemas=schemas)
    try:
        head = ", ".join(sorted(head_revisions()))
        print(f"{url.render_as_string(hide_password=True)}: the migrations' head is {head}")
        for schema in schemas:
            if args.action != "current":
                migrate_schema(engine, schema)
            with engine.connect() as connection:
                at = ", ".join(sorted(current_revisions(connection, schema))) or "none"
            print(f"  {schema}: at {at}{'' if at == head else ' (behind: make migrate)'}")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Several processes starting together on one fresh PostgreSQL database.

`uvicorn --workers 3` starts three processes, and each runs the lifespan: each
creates the tenants' schemas and tables that are missing (stage 11 runs its
migrations), and (from stage 06 on) seeds the demo admins and the roles' permissions. Without the start-up lock
(database.py) two of them would create the same table, or seed the same rows, at
the same moment. Every round uses a fresh database, so every round races.
"""

import os
import subprocess
import sys
import time

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import make_url

from lessons.s07_authorization.roles import DEFAULT_PERMISSIONS
from lessons.s11_capstone.roles import DEFAULT_PERMISSIONS as CAPSTONE_PERMISSIONS
from workbook.serving import free_port
from workbook.stages import ROOT, get_stage

from .stack_tiers import postgres_database
from .stage_apps import stop_supervisor

pytestmark = pytest.mark.services

PROCESSES = 3
ROUNDS = 5
TENANTS = ("acme", "globex")
# What every tenant must hold after start-up, exactly once: the demo admin (06 on),
# the default role permissions (07) and, where migrations make the tables (11), the
# one row of the tenant's version table.
SEEDED = {
    "02": {},
    "06": {"users": 1},
    "07": {"users": 1, "role_permissions": sum(len(permissions) for permissions in DEFAULT_PERMISSIONS.values())},
    "11": {
        "users": 1,
        "role_permissions": sum(len(permissions) for permissions in CAPSTONE_PERMISSIONS.values()),
        "alembic_version": 1,
    },
}
READY, FAILED = "Application startup complete.", "Application startup failed."


@pytest.fixture
def postgres(services) -> None:
    """Skips the test without --services: the race is between processes on one database server."""
    if not services:
        pytest.skip("several processes on one database: PostgreSQL only (make test-services)")


def start_workers(app: str, database_url: str, timeout: float = 120) -> list[str]:
    """Run `uvicorn --workers N` until every worker has started or one has failed; answers its output."""
    env = {
        **os.environ,
        "WORKBOOK_DATABASE_URL": database_url,
        "WORKBOOK_BCRYPT_ROUNDS": "4",  # the demo admins' hashes: the race matters here, not the cost
    }
    command = [sys.executable, "-m", "uvicorn", app, "--port", str(free_port()), "--workers", str(PROCESSES)]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, process_group=0
    )
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            started = sum(READY in line for line in lines)
            if started == PROCESSES or any(FAILED in line for line in lines) or time.monotonic() > deadline:
                break
    finally:
        stop_supervisor(process)
    return lines


def count(psycopg_url: str, schema: str, table: str) -> int:
    with psycopg.connect(psycopg_url) as connection:
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        return connection.execute(query).fetchone()[0]


@pytest.mark.parametrize("stage_number", sorted(SEEDED))
def test_several_processes_start_together_on_a_fresh_database(postgres, stage_number):
    stage = get_stage(stage_number)
    failures = []
    for round_number in range(ROUNDS):
        with postgres_database() as database_url:
            psycopg_url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
            lines = start_workers(stage.app, database_url)
            if sum(READY in line for line in lines) != PROCESSES:
                failures.append(f"round {round_number}:\n" + "\n".join(lines[-30:]))
                continue
            for tenant in TENANTS:
                for table, expected in SEEDED[stage_number].items():
                    assert count(psycopg_url, f"tenant_{tenant}", table) == expected, (
                        f"round {round_number}: {tenant}'s {table} seeded more than once (or not at all)"
                    )
    assert failures == [], f"{len(failures)} of {ROUNDS} starts of {PROCESSES} processes failed:\n" + "\n".join(
        failures
    )

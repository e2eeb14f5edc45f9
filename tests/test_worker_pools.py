"""Several worker processes, several pools: each process's connections, named for it, in pg_stat_activity.

It runs against every stage whose API reports on its pool, each stage's app in turn.
"""

import os
import subprocess
import sys
import time

import psycopg
import pytest
from sqlalchemy import make_url

from workbook.serving import free_port
from workbook.stages import ROOT

from .stage_apps import stage_app_fixture, stop_supervisor

stage_app = stage_app_fixture("/health/pool")

pytestmark = pytest.mark.services

WORKERS = 2
READY = "Application startup complete."


@pytest.fixture
def postgres_url(services, database_url) -> str:
    if not services:
        pytest.skip("worker processes sharing one PostgreSQL server (make test-services)")
    return database_url


def connections_by_process(psycopg_url: str, database: str) -> dict[str, int]:
    with psycopg.connect(psycopg_url) as connection:
        rows = connection.execute(
            "SELECT application_name, count(*) FROM pg_stat_activity"
            " WHERE datname = %s AND application_name LIKE 'storefront-%%' GROUP BY application_name",
            (database,),
        )
        return dict(rows.fetchall())


def test_each_worker_process_has_its_own_pool(postgres_url, stage_app):
    url = make_url(postgres_url)
    env = {
        **os.environ,
        "WORKBOOK_DATABASE_URL": postgres_url,
        "WORKBOOK_BCRYPT_ROUNDS": "4",
        "WORKBOOK_WORKERS": str(WORKERS),
        "WORKBOOK_POOL_SIZE": "3",
        "WORKBOOK_MAX_OVERFLOW": "2",
    }
    command = [sys.executable, "-m", "uvicorn", stage_app.import_path, "--port", str(free_port())]
    process = subprocess.Popen(
        [*command, "--workers", str(WORKERS)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        process_group=0,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 120
        for line in process.stdout:
            lines.append(line)
            if sum(READY in seen for seen in lines) == WORKERS or time.monotonic() > deadline:
                break
        assert sum(READY in line for line in lines) == WORKERS, "".join(lines[-30:])
        psycopg_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
        by_process = connections_by_process(psycopg_url, url.database)
    finally:
        stop_supervisor(process)
    # Each worker started with its own engine: its pool keeps the connections start-up opened.
    assert len(by_process) == WORKERS, f"one application_name per worker process: {by_process}"
    assert f"storefront-{process.pid}" not in by_process, "the supervisor itself opens no pool"
    assert all(1 <= count <= 3 + 2 for count in by_process.values()), by_process

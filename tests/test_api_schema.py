"""No input a stage's OpenAPI schema allows may make it answer 500 or break its own schema.

Each stage is served by uvicorn on a real socket, with the exercise solutions in place,
and fuzzed from its own schema by workbook/schema_fuzz.py (schemathesis, derandomised,
a few generated cases per operation; the module says what is checked and why).
"""

import importlib
import importlib.util
from collections.abc import Iterator
from contextlib import nullcontext

import pytest

from workbook.payment_provider import PaymentProvider, has_payments, payment_env
from workbook.schema_fuzz import fuzz_stage
from workbook.serving import free_port, running
from workbook.stages import load_stages

STAGES = load_stages()


@pytest.fixture(params=STAGES, ids=[stage.number for stage in STAGES])
def served_stage(request, monkeypatch, stage_env, tmp_path) -> Iterator[str]:
    stage = request.param
    # Generated requests come fast and from one address: lift the limits that would
    # otherwise answer 429 to almost everything, and keep password hashing cheap.
    monkeypatch.setenv("WORKBOOK_RATE_LIMIT_PER_MINUTE", "1000000")
    monkeypatch.setenv("WORKBOOK_LOGIN_ATTEMPTS_PER_MINUTE", "1000000")
    monkeypatch.setenv("WORKBOOK_BCRYPT_ROUNDS", "4")
    # Stage 05's lab calls a slow service over HTTP: its own, on the port it is served on.
    port = free_port()
    monkeypatch.setenv("WORKBOOK_LAB_SLOW_SERVICE_URL", f"http://127.0.0.1:{port}/lab/slow-service")
    # A stage that takes payments charges them at a real provider, as under `make serve`.
    provider = PaymentProvider(tmp_path) if has_payments(stage) else None
    for name, value in payment_env(provider).items():
        monkeypatch.setenv(name, value)
    # The app runs in this process: settings an earlier test cached would hide the variables above.
    forget_settings(stage)
    try:
        with provider or nullcontext(), running(stage.app, port=port) as url:
            yield url
    finally:
        forget_settings(stage)


def forget_settings(stage) -> None:
    """Clear the stage's cached settings; stage 00 has none."""
    if importlib.util.find_spec(f"lessons.{stage.package}.settings") is not None:
        importlib.import_module(f"lessons.{stage.package}.settings").get_settings.cache_clear()


# In both tiers: on SQLite and fakeredis in `make test`, on PostgreSQL and Redis in `make test-services`.
@pytest.mark.services
def test_no_input_the_schema_allows_breaks_the_stage(served_stage):
    report = fuzz_stage(served_stage)
    assert report.cases >= report.operations > 0
    assert not report.broken, "\n\n".join(f"{label}:\n{reason}" for label, reason in report.broken.items())

"""No input a stage's OpenAPI schema allows may make it answer 500 or break its own schema.

schemathesis reads each stage's schema and generates requests from it: valid ones
and edge cases (huge integers, odd Unicode, empty bodies). Each stage is served by
uvicorn on a real socket, with the exercise solutions in place, and every request
carries the `acme` tenant and, where the stage has log-in, a demo admin's token, so
the generated input reaches the code behind the checks instead of bouncing off them.

Two checks only, the ones every input must pass: no 5xx, and a response that
matches what the schema documents for its status. The examples are derandomised,
so a run is repeatable and a failure found once is found again.
"""

import importlib
import importlib.util
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field

import httpx2
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from workbook.payment_provider import PaymentProvider, has_payments, payment_env
from workbook.serving import free_port, running
from workbook.stages import load_stages

STAGES = load_stages()
ADMIN_PASSWORD = "storefront-demo-admin"
# Per operation and run: the explicit examples the schema gives, then generated ones up to
# this many. Derandomised, the same cases run every time; raise it locally to look harder.
EXAMPLES_PER_OPERATION = 5


@dataclass
class ServedStage:
    """One stage served for the fuzzer: where it answers and what every request carries."""

    url: str
    has_login: bool
    headers: dict[str, str] = field(default_factory=lambda: {"X-Tenant-ID": "acme"})

    def log_in(self) -> None:
        """A fresh admin token: a generated request may have logged out or rotated the last one."""
        if not self.has_login:
            return
        answer = httpx2.post(
            f"{self.url}/token",
            data={"username": "admin@acme.example", "password": ADMIN_PASSWORD},
            headers={"X-Tenant-ID": "acme"},
        )
        if answer.status_code == 200:
            self.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        else:  # the admin was deleted or renamed by an earlier example: go on without a token
            self.headers.pop("Authorization", None)


@pytest.fixture(params=STAGES, ids=[stage.number for stage in STAGES])
def served_stage(request, monkeypatch, stage_env, tmp_path) -> Iterator[ServedStage]:
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
            openapi = httpx2.get(f"{url}/openapi.json").json()
            yield ServedStage(url, has_login="/token" in openapi["paths"])
    finally:
        forget_settings(stage)


def forget_settings(stage) -> None:
    """Clear the stage's cached settings; stage 00 has none."""
    if importlib.util.find_spec(f"lessons.{stage.package}.settings") is not None:
        importlib.import_module(f"lessons.{stage.package}.settings").get_settings.cache_clear()


def fuzz(operation, stage: ServedStage) -> None:
    """Run the generated examples of one operation; raises on the first broken promise."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def examples(case) -> None:
        stage.log_in()
        case.call_and_validate(
            base_url=stage.url,
            headers=stage.headers,
            checks=[not_a_server_error, response_schema_conformance],
        )

    examples()


# In both tiers: on SQLite and fakeredis in `make test`, on PostgreSQL and Redis in `make test-services`.
@pytest.mark.services
def test_no_input_the_schema_allows_breaks_the_stage(served_stage):
    schema = schemathesis.openapi.from_url(f"{served_stage.url}/openapi.json")
    broken = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            fuzz(operation, served_stage)
        # Every operation is tried, and all that broke are reported together. schemathesis
        # raises its findings as a BaseExceptionGroup, one entry per distinct failure.
        except (Exception, BaseExceptionGroup) as error:
            broken[operation.label] = str(error)[:3000]
    assert not broken, "\n\n".join(f"{label}:\n{reason}" for label, reason in broken.items())

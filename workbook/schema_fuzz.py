"""Property-based tests from a stage's OpenAPI schema, with schemathesis.

schemathesis reads the schema a served stage publishes and generates requests from
it: valid ones and edge cases (huge integers, odd Unicode, empty bodies). Every
request carries the `acme` tenant and, where the stage has log-in, a demo admin's
token, so the generated input reaches the code behind the checks instead of
bouncing off them. Two checks only, the ones every input must pass: no 5xx, and a
response that matches what the schema documents for its status. The examples are
derandomised, so a run is repeatable and a failure found once is found again.

`tests/test_api_schema.py` runs it against every stage; notebook 09 against one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx2
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import response_schema_conformance

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


@dataclass
class FuzzReport:
    operations: int = 0
    cases: int = 0
    broken: dict[str, str] = field(default_factory=dict)  # operation label -> what broke


def fuzz_stage(url: str, wanted: Callable[[str], bool] = lambda label: True) -> FuzzReport:
    """Fuzz every operation of the stage served at `url` whose label ("GET /products") is `wanted`."""
    stage = ServedStage(url, has_login="/token" in httpx2.get(f"{url}/openapi.json").json()["paths"])
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    report = FuzzReport()
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # an operation schemathesis cannot read is a broken promise too
            report.broken[f"unreadable operation {len(report.broken) + 1}"] = str(result.err())[:3000]
            continue
        operation = result.ok()
        if not wanted(operation.label):
            continue
        report.operations += 1
        try:
            report.cases += _fuzz(operation, stage)
        # Every operation is tried, and all that broke are reported together. schemathesis
        # raises its findings as a BaseExceptionGroup, one entry per distinct failure.
        except (Exception, BaseExceptionGroup) as error:
            report.broken[operation.label] = str(error)[:3000]
    return report


def _fuzz(operation, stage: ServedStage) -> int:
    """Run the generated examples of one operation; answers how many ran, raises on a broken promise."""
    ran = 0

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
        nonlocal ran
        ran += 1
        stage.log_in()
        case.call_and_validate(
            base_url=stage.url,
            headers=stage.headers,
            checks=[not_a_server_error, response_schema_conformance],
        )

    examples()
    return ran

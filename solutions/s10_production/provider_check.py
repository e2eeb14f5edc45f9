"""Exercise 10/provider_check: is the payment provider reachable? Say so within half a second, whatever it does.

GET /health/ready leaves the payment provider out, on purpose: when it is down, every
replica would fail readiness at once, the load balancer would have nowhere to send
requests, and the catalogue and log-in would go down along with payments. Its state is
still worth watching (a dashboard, an alert), so GET /health/payment-provider reports
it, in the readiness checks' own CheckResult: 200 when it answers, 503 otherwise.

Write `check_provider`: GET `{provider_url}/v1/stats` with the app's shared client,
`http`, and answer a CheckResult named "payment_provider".

- Up: any answer below 500. Down: a 5xx answer, or no answer at all.
- Bounded: the whole check within PROVIDER_DEADLINE_SECONDS. The client's own timeouts
  will not do: they are per step (2 s to connect, 5 s for each read), so a provider
  that accepts the connection and never answers holds the check for seconds.
- Tidy: no socket left open. Cancelled from outside in the middle of a TLS handshake
  (by the deadline), the client leaves that connection open until the garbage collector
  finds it (a ResourceWarning, and a file descriptor held meanwhile). Give the request
  timeouts of its own, shorter than the deadline (`http.get(url, timeout=...)`): the
  client then gives up first and closes what it opened. The deadline stays, for a
  provider that trickles its answer a byte at a time and so passes every step.
- Silent about where the provider lives: the reason never holds the error's message,
  which names the host and port.

`run_check(name, check, seconds)` in readiness.py does the timing, the deadline and
the reasons for you, given an async function that raises when the check fails
(`CheckFailed("...")` for a failure you describe yourself).
"""

import httpx2
from fastapi import APIRouter, Response, status

from ..dependencies import SettingsDep
from ..outbound import HttpClientDep
from ..readiness import CheckFailed, CheckResult, run_check

router = APIRouter(tags=["exercises"])

# The longest the check may take, all of it: connecting, the TLS handshake, the answer.
PROVIDER_DEADLINE_SECONDS = 0.5


async def check_provider(http: httpx2.AsyncClient, provider_url: str) -> CheckResult:
    # BEGIN SOLUTION
    async def ask_provider() -> None:
        # Each step may take half the deadline: the client gives up before the deadline
        # cancels it, and closes the connection it was opening.
        response = await http.get(f"{provider_url.rstrip('/')}/v1/stats", timeout=PROVIDER_DEADLINE_SECONDS / 2)
        if response.status_code >= 500:
            raise CheckFailed(f"the provider answered {response.status_code}")

    return await run_check("payment_provider", ask_provider, PROVIDER_DEADLINE_SECONDS)
    # END SOLUTION


@router.get(
    "/health/payment-provider",
    responses={503: {"model": CheckResult, "description": "The payment provider is down, or did not answer in time"}},
)
async def payment_provider_health(http: HttpClientDep, settings: SettingsDep, response: Response) -> CheckResult:
    result = await check_provider(http, settings.payment_provider_url)
    if result.status == "failed":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return result

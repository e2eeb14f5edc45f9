"""How long to wait before retrying: exponential backoff, capped, with jitter.

Celery can compute this itself (`retry_backoff`, `retry_backoff_max`,
`retry_jitter`), but it works in whole seconds (its formula ends in
`random.randrange`), and its full jitter may answer 0, an immediate retry.
Computing the countdown here keeps it a plain function a test can check, lets
tests and the notebook use a base of a fraction of a second, and uses "equal
jitter": half the delay is fixed, half is random.

    retry 1: 0.5..1 x base   retry 2: 1..2 x base   retry 3: 2..4 x base ... never above cap

Backoff gives a struggling server room to recover; jitter spreads out the
retries of many tasks that failed at the same moment, so they do not all hit
the server again at the same instant.
"""

import random


def backoff_delay(retries: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before the next attempt, when `retries` retries have happened so far."""
    ceiling = min(cap, base * 2**retries)
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


# How long the pieces of a welcome email's delivery can take, at worst. Each is
# derived from the settings it depends on, so that changing a timeout moves every
# limit built on it (the Redis visibility timeout in worker.py, the outbox's
# re-send delay in outbox.py) instead of leaving one of them too short.

# smtplib's timeout bounds each socket operation, not the whole conversation:
# connect, the greeting, EHLO, MAIL FROM, RCPT TO, DATA, the message's end, QUIT.
SMTP_ROUND_TRIPS = 8


def longest_attempt_seconds(smtp_timeout: float) -> float:
    """The longest one run of the task can take: every SMTP step waiting its full timeout."""
    return SMTP_ROUND_TRIPS * smtp_timeout


def longest_unacked_seconds(retry_cap: float, smtp_timeout: float) -> float:
    """The longest a worker can legitimately hold one message without acknowledging it.

    With late acks a message is acknowledged when its run ends. A retry is a new
    message with a countdown, and a worker reserves such a message at once and
    holds it, unacknowledged, until the countdown ends (at most the cap); then
    the run itself takes at most one attempt.
    """
    return retry_cap + longest_attempt_seconds(smtp_timeout)


def retry_budget_seconds(base: float, cap: float, max_retries: int, smtp_timeout: float) -> float:
    """The longest the task's whole chain of retries can last: each wait at its ceiling, each attempt its longest."""
    waits = sum(min(cap, base * 2**retries) for retries in range(max_retries))
    return waits + (max_retries + 1) * longest_attempt_seconds(smtp_timeout)

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

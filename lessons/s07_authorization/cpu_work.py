"""CPU-bound work, kept in a small module of its own.

A process pool runs these functions in worker processes. Those processes start
fresh ("spawn") and import this module by name to find the function, so it
imports nothing heavy.
"""

import os
from math import isqrt


def count_primes(limit: int) -> int:
    """The primes below `limit`, by trial division.

    Deliberately plain Python: every step runs bytecode, which holds the GIL, so
    while it runs nothing else in the process gets the CPU for long. It stands in
    for any pure-Python number crunching (a report, a price optimisation).
    """
    return sum(1 for n in range(2, limit) if all(n % divisor for divisor in range(2, isqrt(n) + 1)))


def prime_count(limit: int) -> dict[str, int]:
    """count_primes, with the id of the process that did the work."""
    return {"limit": limit, "primes": count_primes(limit), "pid": os.getpid()}

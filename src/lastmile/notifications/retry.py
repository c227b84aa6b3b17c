"""Retry schedule (pure): exponential backoff with jitter, then the dead-letter list."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

MAX_DELAY = timedelta(hours=6)


def backoff(attempts: int, base_s: float, rng: random.Random | None = None) -> timedelta:
    """The wait after the ``attempts``-th failed try: ``base * 2**(attempts-1)``, capped at six
    hours, scaled by a random factor in [0.5, 1] so receivers that fail together are not
    retried together."""
    delay = min(base_s * 2 ** max(attempts - 1, 0), MAX_DELAY.total_seconds())
    return timedelta(seconds=delay * (rng or random).uniform(0.5, 1.0))


def next_try(attempts: int, max_attempts: int, base_s: float, now: datetime) -> datetime | None:
    """When to try again after ``attempts`` failures, or None when it is time to give up."""
    if attempts >= max_attempts:
        return None
    return now + backoff(attempts, base_s)

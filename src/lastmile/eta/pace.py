"""The driver's pace today: how their observed legs compare with the plan."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def pace_factor(
    ratios: Sequence[float],
    *,
    prior_legs: float,
    lower: float,
    upper: float,
    prior: float = 1.0,
) -> float:
    """
    Factor to multiply planned driving times by, from observed/planned ratios of past legs.

    The median of the log ratios (one stuck leg or a short break moves it little), shrunk
    towards the prior as if ``prior_legs`` legs had been at the prior pace, then clipped.

    Parameters
    ----------
    ratios
        Observed over planned seconds of completed legs, positive.
    prior_legs
        Weight of the prior, in legs.
    lower, upper
        Bounds of the factor.
    prior
        The pace assumed before any leg, e.g. the fleet's recent pace.

    Returns
    -------
    float
        The prior (clipped) with no legs; slower drivers above 1.
    """
    logs = [math.log(r) for r in ratios if r > 0]
    base = math.log(prior)
    n = len(logs)
    log_pace = (
        base if n == 0 else (n * statistics.median(logs) + prior_legs * base) / (n + prior_legs)
    )
    return min(upper, max(lower, math.exp(log_pace)))

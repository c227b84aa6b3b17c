"""The driver's pace today: how their observed legs compare with the plan."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def pace_factor(ratios: Sequence[float], *, prior_legs: float, lower: float, upper: float) -> float:
    """
    Factor to multiply planned driving times by, from observed/planned ratios of past legs.

    The median of the log ratios (one stuck leg or a short break moves it little), shrunk
    towards 0 (on plan) as if ``prior_legs`` legs had been on plan, then clipped.

    Parameters
    ----------
    ratios
        Observed over planned seconds of completed legs, positive.
    prior_legs
        Weight of the on-plan prior, in legs.
    lower, upper
        Bounds of the factor.

    Returns
    -------
    float
        1.0 with no legs; slower drivers above 1.
    """
    logs = [math.log(r) for r in ratios if r > 0]
    if not logs:
        return 1.0
    shrunk = statistics.median(logs) * len(logs) / (len(logs) + prior_legs)
    return min(upper, max(lower, math.exp(shrunk)))

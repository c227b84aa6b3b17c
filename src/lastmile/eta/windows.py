"""ETA windows from past residuals: lead-normalised conformal quantiles per horizon band.

A residual ``r = actual - predicted`` of a prediction made ``L`` seconds before the actual
arrival (its lead) is normalised as ``z = r / (L + floor)``: errors grow with how far ahead
the prediction was, and stay finite near the stop. At prediction time only the predicted
horizon ``h`` is known, and ``L = h + r``; solving ``r = z (h + floor + r)`` gives the offset
``r = z (h + floor) / (1 - z)``. Because that map is increasing in ``z``, an arrival falls
inside the window exactly when its ``z`` falls between the quantiles: the window covers the
intended share of arrivals at every lead, as far as ``z`` is alike across leads. (Scaling by
``h`` instead would make windows narrowest for exactly the arrivals that run late.)
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lastmile.eta.config import LearningConfig

Window = tuple[float, float, float]
"""Offsets in seconds from a raw prediction: (low quantile, median, high quantile)."""

# z = r / (L + floor) is below 1 whenever the arrival comes after the prediction is made;
# capping it bounds the late edge at nine times the scale.
MAX_Z = 0.9


def conformal_quantile(values: Sequence[float], q: float) -> float:
    """
    The split-conformal quantile of sorted ``values`` at level ``q``.

    The rank is rounded outwards (``ceil((n + 1) q)`` above the median, ``floor`` below), so
    a new draw from the same distribution falls inside [low, high] at least as often as the
    levels say, even with few values.
    """
    n = len(values)
    rank = min(n, math.ceil((n + 1) * q)) if q >= 0.5 else max(1, math.floor((n + 1) * q))
    return values[rank - 1]


class ResidualPool:
    """
    Normalised residuals by lead band, turned into window offsets.

    Each band keeps its most recent ``max_residuals_per_band`` values. A band's quantiles are
    blended with those of all bands pooled, and those with a skewed prior, each weighing data
    by ``n / (n + prior_weight)``.
    """

    def __init__(self, config: LearningConfig) -> None:
        self.config = config
        bands = len(config.horizon_edges_s) + 1
        self._bands: list[deque[float]] = [
            deque(maxlen=config.max_residuals_per_band) for _ in range(bands)
        ]
        self._levels = (config.low_quantile, 0.5, config.high_quantile)
        self._cache: dict[int, Window] = {}
        self._everything: list[float] | None = None

    def __len__(self) -> int:
        return sum(len(band) for band in self._bands)

    def band(self, seconds_ahead: float) -> int:
        """Index of the band a lead or horizon falls in (0: closer than the first edge)."""
        return bisect.bisect_right(self.config.horizon_edges_s, seconds_ahead)

    def scale_s(self, seconds_ahead: float) -> float:
        """Seconds of residual one unit of ``z`` stands for at this lead."""
        return max(seconds_ahead, 0.0) + self.config.horizon_floor_s

    def observe(self, residuals: Iterable[tuple[float, float]]) -> None:
        """Learn (lead, actual - predicted) pairs, e.g. every prediction of one arrival."""
        added = False
        for lead, residual in residuals:
            if math.isfinite(lead) and math.isfinite(residual) and lead >= 0:
                self._bands[self.band(lead)].append(residual / self.scale_s(lead))
                added = True
        if added:
            self._cache.clear()
            self._everything = None

    def window(self, horizon_s: float) -> Window:
        """Offsets (low, median, high) to add to a raw prediction ``horizon_s`` ahead."""
        band = self.band(horizon_s)
        z = self._cache.get(band)
        if z is None:
            if self._everything is None:
                self._everything = sorted(z for values in self._bands for z in values)
            pooled = self._blend(self._everything, self._prior())
            z = self._cache[band] = self._blend(sorted(self._bands[band]), pooled)
        scale = self.scale_s(horizon_s)
        low, mid, high = (min(q, MAX_Z) for q in z)
        return low * scale / (1 - low), mid * scale / (1 - mid), high * scale / (1 - high)

    def _prior(self) -> Window:
        c, normal = self.config, statistics.NormalDist()
        m = c.prior_median_z
        return (
            m + normal.inv_cdf(c.low_quantile) * c.prior_early_sd_z,
            m,
            m + normal.inv_cdf(c.high_quantile) * c.prior_late_sd_z,
        )

    def _blend(self, values: Sequence[float], fallback: Window) -> Window:
        """Quantiles of sorted ``values`` weighed against ``fallback``."""
        if not values:
            return fallback
        weight = len(values) / (len(values) + self.config.prior_weight)
        data = [conformal_quantile(values, q) for q in self._levels]
        low, mid, high = (
            weight * d + (1 - weight) * f for d, f in zip(data, fallback, strict=True)
        )
        return low, min(max(mid, low), high), high

    def to_state(self) -> dict[str, Any]:
        """JSON-able: the normalised residuals held, per band."""
        return {"edges": list(self.config.horizon_edges_s), "bands": [list(b) for b in self._bands]}

    def load(self, state: Mapping[str, Any]) -> None:
        """Take the state of :meth:`to_state`, unless its bands were set up differently."""
        if list(state["edges"]) != list(self.config.horizon_edges_s):
            return
        for band, values in zip(self._bands, state["bands"], strict=True):
            band.extend(float(z) for z in values)
        self._cache.clear()
        self._everything = None

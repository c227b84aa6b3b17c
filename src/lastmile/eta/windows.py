"""ETA windows from past residuals: horizon bands, conformal quantiles, adaptive levels."""

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

# Adapted levels stay inside these: beyond them the window says nothing, or nothing useful.
LOW_LEVELS, HIGH_LEVELS = (0.005, 0.45), (0.55, 0.995)


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
    Residuals (actual - predicted arrival) by horizon, turned into window offsets.

    A residual is normalised by ``horizon + horizon_floor_s`` and kept in its horizon band
    (the most recent ``max_residuals_per_band``, so the pool follows the day's traffic).
    A band's quantiles are blended with those of all bands pooled, and those with a skewed
    prior, each weighing data by ``n / (n + prior_weight)``.

    The quantile levels themselves adapt (adaptive conformal inference, Gibbs and Candes
    2021): each residual that falls below the window lowers the low level, each above raises
    the high level, and hits move them back, so the long-run share of arrivals inside the
    window tracks the target even when the day's traffic shifts.
    """

    def __init__(self, config: LearningConfig) -> None:
        self.config = config
        bands = len(config.horizon_edges_s) + 1
        self._bands: list[deque[tuple[float, float]]] = [
            deque(maxlen=config.max_residuals_per_band) for _ in range(bands)
        ]
        self.low_level = config.low_quantile
        self.high_level = config.high_quantile
        self._cache: dict[int, Window] = {}

    def __len__(self) -> int:
        return sum(len(band) for band in self._bands)

    def band(self, horizon_s: float) -> int:
        """Index of the horizon band ``horizon_s`` falls in (0: closer than the first edge)."""
        return bisect.bisect_right(self.config.horizon_edges_s, horizon_s)

    def scale_s(self, horizon_s: float) -> float:
        """Seconds one unit of normalised residual stands for at this horizon."""
        return max(horizon_s, 0.0) + self.config.horizon_floor_s

    def window(self, horizon_s: float) -> Window:
        """Offsets (low, median, high) to add to a raw prediction made ``horizon_s`` ahead."""
        band = self.band(horizon_s)
        z = self._cache.get(band)
        if z is None:
            z = self._cache[band] = self._blend(self._normalised(band), self._pooled())
        scale = self.scale_s(horizon_s)
        return z[0] * scale, z[1] * scale, z[2] * scale

    def observe(self, residuals: Iterable[tuple[float, float]]) -> None:
        """
        Learn (horizon, residual) pairs, e.g. all predictions made for one arrival.

        Each is first scored against the current window at its horizon to adapt the levels.
        """
        c = self.config
        pairs = [(h, r) for h, r in residuals if math.isfinite(h) and math.isfinite(r)]
        for horizon, residual in pairs:
            low, _, high = self.window(horizon)
            below, above = residual < low, residual > high
            self.low_level += c.adapt_rate * (c.low_quantile - below)
            self.high_level += c.adapt_rate * (above - (1 - c.high_quantile))
        self.low_level = min(max(self.low_level, LOW_LEVELS[0]), LOW_LEVELS[1])
        self.high_level = min(max(self.high_level, HIGH_LEVELS[0]), HIGH_LEVELS[1])
        for horizon, residual in pairs:
            self._bands[self.band(horizon)].append((horizon, residual))
        if pairs:
            self._cache.clear()

    def _levels(self) -> tuple[float, float, float]:
        return self.low_level, 0.5, self.high_level

    def _prior(self) -> Window:
        c, normal = self.config, statistics.NormalDist()
        low, high = normal.inv_cdf(self.low_level), normal.inv_cdf(self.high_level)
        m = c.prior_median_z
        return m + low * c.prior_early_sd_z, m, m + high * c.prior_late_sd_z

    def _pooled(self) -> Window:
        pooled = self._cache.get(-1)
        if pooled is None:
            everything = [z for b in range(len(self._bands)) for z in self._normalised(b)]
            pooled = self._cache[-1] = self._blend(everything, self._prior())
        return pooled

    def _normalised(self, band: int) -> list[float]:
        return [r / self.scale_s(h) for h, r in self._bands[band]]

    def _blend(self, values: list[float], fallback: Window) -> Window:
        if not values:
            return fallback
        values.sort()
        weight = len(values) / (len(values) + self.config.prior_weight)
        data = [conformal_quantile(values, q) for q in self._levels()]
        low, mid, high = (
            weight * d + (1 - weight) * f for d, f in zip(data, fallback, strict=True)
        )
        return low, min(max(mid, low), high), high

    def to_state(self) -> dict[str, Any]:
        """JSON-able: the adapted levels and every (horizon, residual) pair held."""
        return {
            "levels": [self.low_level, self.high_level],
            "residuals": [[h, r] for band in self._bands for h, r in band],
        }

    def load(self, state: Mapping[str, Any]) -> None:
        """Take the pairs and levels of :meth:`to_state` (bands are recomputed)."""
        for horizon, residual in state["residuals"]:
            self._bands[self.band(float(horizon))].append((float(horizon), float(residual)))
        self.low_level, self.high_level = (float(v) for v in state["levels"])
        self._cache.clear()

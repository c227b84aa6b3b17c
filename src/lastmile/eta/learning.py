"""What a fleet learns during the day: dwell time per delivery method and ETA residuals."""

from __future__ import annotations

import bisect
import math
import statistics
from collections import deque
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from lastmile.eta.config import LearningConfig
from lastmile.routing.service_time import DeliveryMethod, service_time


def _one_parcel_s(method: DeliveryMethod) -> float:
    timing = service_time(method, 1)
    return float(timing.setup_s + timing.service_s)


DEFAULT_DWELL_S: Mapping[str, float] = MappingProxyType(
    {
        **{method.value: _one_parcel_s(method) for method in DeliveryMethod},
        "pickup_point": _one_parcel_s(DeliveryMethod.PARCEL_SHOP),
        "safe_place": _one_parcel_s(DeliveryMethod.DOORSTEP),
    }
)
"""One-parcel handling time per method from the planner's service-time rules; methods it does
not know (and aliases the API uses) fall back to a doorstep drop."""

Window = tuple[float, float, float]
"""Offsets in seconds from a raw prediction: (low quantile, median, high quantile)."""


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


class FleetLearning:
    """
    Running dwell medians per method and a residual pool, shared by an organisation's routes.

    Parameters
    ----------
    config
        Quantile levels, prior and memory sizes.
    default_dwell_s
        Dwell per method before anything is observed; unknown methods use ``doorstep``.
    """

    def __init__(
        self,
        config: LearningConfig = LearningConfig(),
        default_dwell_s: Mapping[str, float] = DEFAULT_DWELL_S,
    ) -> None:
        self.config = config
        self._defaults = dict(default_dwell_s)
        self._dwells: dict[str, deque[float]] = {}
        bands = len(config.horizon_edges_s) + 1
        self._residuals: list[deque[tuple[float, float]]] = [
            deque(maxlen=config.max_residuals_per_band) for _ in range(bands)
        ]
        self._dwell_cache: dict[str, float] = {}
        self._window_cache: dict[int, tuple[float, float, float]] = {}

    # --- dwell -----------------------------------------------------------------------------

    def default_dwell_s(self, method: str) -> float:
        """The method's dwell before observations (a doorstep drop if the method is unknown)."""
        return self._defaults.get(method, self._defaults.get("doorstep", 52.0))

    def dwell_s(self, method: str) -> float:
        """
        Expected seconds at a stop of this method.

        The running median of observed dwells, shrunk towards the default while there are few:
        ``(n * median + w * default) / (n + w)`` with ``w = dwell_prior_weight``.
        """
        cached = self._dwell_cache.get(method)
        if cached is not None:
            return cached
        seen = self._dwells.get(method, ())
        default = self.default_dwell_s(method)
        n, w = len(seen), self.config.dwell_prior_weight
        value = default if n == 0 else (n * statistics.median(seen) + w * default) / (n + w)
        self._dwell_cache[method] = value
        return value

    def observe_dwell(self, method: str, seconds: float) -> None:
        """Learn one observed stop duration; non-positive or implausibly long ones are ignored."""
        if not 0 < seconds <= self.config.max_dwell_s:
            return
        seen = self._dwells.setdefault(method, deque(maxlen=self.config.max_dwells_per_method))
        seen.append(float(seconds))
        self._dwell_cache.pop(method, None)

    # --- residuals -------------------------------------------------------------------------

    def band(self, horizon_s: float) -> int:
        """Index of the horizon band ``horizon_s`` falls in (0: closer than the first edge)."""
        return bisect.bisect_right(self.config.horizon_edges_s, horizon_s)

    def scale_s(self, horizon_s: float) -> float:
        """Seconds one unit of normalised residual stands for at this horizon."""
        return max(horizon_s, 0.0) + self.config.horizon_floor_s

    def observe_residual(self, horizon_s: float, residual_s: float) -> None:
        """Learn from one arrival: ``residual_s`` is actual minus predicted, ``horizon_s`` ahead."""
        if not (math.isfinite(horizon_s) and math.isfinite(residual_s)):
            return
        self._residuals[self.band(horizon_s)].append((float(horizon_s), float(residual_s)))
        self._window_cache.clear()

    @property
    def residual_count(self) -> int:
        """Residuals held over all bands."""
        return sum(len(band) for band in self._residuals)

    def window(self, horizon_s: float) -> Window:
        """
        Offsets (low, median, high) to add to a raw prediction made ``horizon_s`` ahead.

        Normalised residual quantiles of the horizon's band, blended with the quantiles of all
        bands pooled, which are blended with the prior; each blend weighs data by
        ``n / (n + prior_weight)``. Scaled back by ``horizon + horizon_floor_s``.
        """
        band = self.band(horizon_s)
        z = self._window_cache.get(band)
        if z is None:
            z = self._band_quantiles(band)
            self._window_cache[band] = z
        scale = self.scale_s(horizon_s)
        return z[0] * scale, z[1] * scale, z[2] * scale

    def _levels(self) -> tuple[float, float, float]:
        return self.config.low_quantile, 0.5, self.config.high_quantile

    def _prior(self) -> tuple[float, float, float]:
        c = self.config
        normal = statistics.NormalDist()
        lo, hi = normal.inv_cdf(c.low_quantile), normal.inv_cdf(c.high_quantile)
        m = c.prior_median_z
        return m + lo * c.prior_early_sd_z, m, m + hi * c.prior_late_sd_z

    def _blend(
        self, values: list[float], fallback: tuple[float, float, float]
    ) -> tuple[float, float, float]:
        if not values:
            return fallback
        values.sort()
        weight = len(values) / (len(values) + self.config.prior_weight)
        data = [conformal_quantile(values, q) for q in self._levels()]
        lo, mid, hi = (weight * d + (1 - weight) * f for d, f in zip(data, fallback, strict=True))
        # Blending keeps the order of each triple; guard the median against rounding anyway.
        return lo, min(max(mid, lo), hi), hi

    def _normalised(self, band: int) -> list[float]:
        return [r / self.scale_s(h) for h, r in self._residuals[band]]

    def _band_quantiles(self, band: int) -> tuple[float, float, float]:
        pooled = self._window_cache.get(-1)
        if pooled is None:
            everything = [z for b in range(len(self._residuals)) for z in self._normalised(b)]
            pooled = self._blend(everything, self._prior())
            self._window_cache[-1] = pooled
        return self._blend(self._normalised(band), pooled)

    # --- persistence -----------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """A JSON-able snapshot: observed dwells per method and (horizon, residual) pairs."""
        return {
            "version": 1,
            "dwells": {method: list(seen) for method, seen in self._dwells.items()},
            "residuals": [[h, r] for band in self._residuals for h, r in band],
        }

    @classmethod
    def from_state(
        cls,
        state: Mapping[str, Any],
        config: LearningConfig = LearningConfig(),
        default_dwell_s: Mapping[str, float] = DEFAULT_DWELL_S,
    ) -> FleetLearning:
        """Rebuild from :meth:`to_state` (bands are recomputed, so edges may have changed)."""
        if state.get("version") != 1:
            raise ValueError("unknown FleetLearning state version")
        learning = cls(config, default_dwell_s)
        for method, seen in state["dwells"].items():
            for seconds in seen:
                learning.observe_dwell(method, float(seconds))
        for horizon, residual in state["residuals"]:
            learning.observe_residual(float(horizon), float(residual))
        return learning

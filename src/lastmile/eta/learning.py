"""What a fleet learns during the day: dwell per delivery method, pace, and ETA residuals."""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from lastmile.eta.config import LearningConfig
from lastmile.eta.windows import ResidualPool, Window
from lastmile.routing.service_time import DeliveryMethod, service_time

STATE_VERSION = 1


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


class FleetLearning:
    """
    Shared by an organisation's routes of a day: dwell medians, fleet pace, residual pool.

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
        self._dwell_cache: dict[tuple[str, float], float] = {}
        self._legs: deque[float] = deque(maxlen=config.fleet_pace_legs)
        self._residuals = ResidualPool(config)

    # --- dwell -----------------------------------------------------------------------------

    def default_dwell_s(self, method: str) -> float:
        """The method's dwell before observations (a doorstep drop if the method is unknown)."""
        return self._defaults.get(method, self._defaults.get("doorstep", 52.0))

    def dwell_s(self, method: str, extra_default_s: float = 0.0) -> float:
        """
        Expected seconds at a stop of this method.

        The running median of observed dwells, shrunk towards the default while there are few:
        ``(n * median + w * default) / (n + w)`` with ``w = dwell_prior_weight``.

        Parameters
        ----------
        method
            Delivery method key.
        extra_default_s
            Added to the default only: time a measured dwell includes but handling does not,
            such as driving inside the geofence circles.
        """
        key = (method, extra_default_s)
        cached = self._dwell_cache.get(key)
        if cached is not None:
            return cached
        seen = self._dwells.get(method, ())
        default = self.default_dwell_s(method) + extra_default_s
        n, w = len(seen), self.config.dwell_prior_weight
        value = default if n == 0 else (n * statistics.median(seen) + w * default) / (n + w)
        self._dwell_cache[key] = value
        return value

    def observe_dwell(self, method: str, seconds: float) -> None:
        """Learn one observed stop duration; non-positive or implausibly long ones are ignored."""
        if not 0 < seconds <= self.config.max_dwell_s:
            return
        seen = self._dwells.setdefault(method, deque(maxlen=self.config.max_dwells_per_method))
        seen.append(float(seconds))
        self._dwell_cache = {k: v for k, v in self._dwell_cache.items() if k[0] != method}

    # --- pace ------------------------------------------------------------------------------

    def observe_leg(self, ratio: float) -> None:
        """Learn one completed leg's observed over planned driving time."""
        if ratio > 0 and math.isfinite(ratio):
            self._legs.append(math.log(ratio))

    @property
    def fleet_pace(self) -> float:
        """Median observed/planned ratio of the fleet's recent legs (1 before any)."""
        return math.exp(statistics.median(self._legs)) if self._legs else 1.0

    # --- windows ---------------------------------------------------------------------------

    def window(self, horizon_s: float) -> Window:
        """Offsets (low, median, high) to add to a raw prediction made ``horizon_s`` ahead."""
        return self._residuals.window(horizon_s)

    def observe_residuals(
        self, residuals: Iterable[tuple[float, float]], route: str | None = None
    ) -> None:
        """
        Learn from one arrival's predictions.

        Parameters
        ----------
        residuals
            (lead, actual - predicted) pairs; the lead is the actual arrival minus the moment
            the prediction was made.
        route
            The route they come from: a route's residuals are correlated, so together they
            count as one sample of the window quantiles (see :mod:`lastmile.eta.windows`).
            Without it each residual counts as one.
        """
        self._residuals.observe(residuals, route)

    @property
    def residual_count(self) -> int:
        """Residuals held over all horizon bands."""
        return len(self._residuals)

    # --- persistence -----------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """A JSON-able snapshot of everything observed."""
        return {
            "version": STATE_VERSION,
            "dwells": {method: list(seen) for method, seen in self._dwells.items()},
            "legs": list(self._legs),
            "residuals": self._residuals.to_state(),
        }

    @classmethod
    def from_state(
        cls,
        state: Mapping[str, Any],
        config: LearningConfig = LearningConfig(),
        default_dwell_s: Mapping[str, float] = DEFAULT_DWELL_S,
    ) -> FleetLearning:
        """Rebuild from :meth:`to_state` (memory sizes and bands follow ``config``)."""
        if state.get("version") != STATE_VERSION:
            raise ValueError("unknown FleetLearning state version")
        learning = cls(config, default_dwell_s)
        for method, seen in state["dwells"].items():
            for seconds in seen:
                learning.observe_dwell(method, float(seconds))
        learning._legs.extend(float(v) for v in state["legs"])
        learning._residuals.load(state["residuals"])
        return learning

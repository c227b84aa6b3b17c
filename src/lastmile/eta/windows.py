"""ETA windows from past residuals: lead-normalised conformal quantiles, routes as samples.

**Normalisation.** A residual ``r = actual - predicted`` of a prediction made ``L`` seconds
before the actual arrival (its lead) is normalised as ``z = r / (L + floor)``: errors grow with
how far ahead the prediction was, and stay finite near the stop. Residuals are kept in bands
of lead, so each band's quantiles of ``z`` describe arrivals that far ahead.

**Each edge at the lead it implies.** At prediction time only the horizon ``h`` is known, and
``L = h + r``: an arrival on the late edge comes ``h + r_high`` ahead, one on the early edge
``h + r_low``. ``z`` is not alike across leads (its median drifts late and its spread narrows
as the lead grows), so band ``i``'s quantile ``z_i`` at its middle lead ``L_i`` gives the
point ``r_i = z_i (L_i + floor)`` at horizon ``h_i = L_i - r_i``, and each edge is
interpolated between its points (constant ``z`` beyond them: ``r = z (h + floor) / (1 - z)``).
An arrival then falls outside an edge when its ``z`` falls outside the quantile of its own
lead, up to the interpolation. (Reading the band of ``h`` instead gave early arrivals the
narrow tails of longer leads and late ones those of shorter leads.) The centre is no edge: an
arrival at the median comes about ``h`` ahead, so it stays the median of the band of ``h``,
of all residuals alike (see below), and the point forecast is what it was.

**Routes, not residuals, are the samples.** One arrival teaches a residual at every lead it
was predicted at, and a driver running late is late at every stop: within a lead band, the
intra-route correlation of ``z`` is about 0.2 at 30 min and 0.6 at 2 h on the simulated day.
Split conformal's rank ``ceil((n + 1) q)`` treats ``n`` residuals as exchangeable; when a
route's residuals agree, a new route's arrival is below that quantile only with probability
about ``ceil(q K) / (K + 1)`` for ``K`` routes: windows under-cover. Routes are what is
exchangeable, so the quantiles are those of hierarchical conformal prediction (Lee, Barber &
Willett, 2023, "Distribution-free inference with hierarchical data"): a route's residuals in a
band weigh one together, and the level is corrected for ``K`` routes as it usually is for
``n`` values: the late edge is the smallest ``z`` with a weight of ``q (K + 1)`` at or below
it, the early edge mirrors it (the median, a point estimate with no coverage to guarantee,
weighs every residual alike). That holds for a route the pool has not seen, whatever the
dependence within routes; the price is each tail about ``q / K`` thinner (some 2 points with
the 40 or so routes a band's memory holds), so windows aim a little above the nominal share.
Residuals learnt without a route count one each: plain split conformal.
"""

from __future__ import annotations

import bisect
import itertools
import math
import statistics
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lastmile.eta.config import LearningConfig

Window = tuple[float, float, float]
"""Offsets in seconds from a raw prediction: (low quantile, median, high quantile)."""

# z = r / (L + floor) is below 1 whenever the arrival comes after the prediction is made;
# capping it bounds the late edge at nine times the scale.
MAX_Z = 0.9
# Weights are sums of 1/n terms; comparisons with a level allow for their rounding.
_EPS = 1e-9


def conformal_quantile(
    values: Sequence[float], q: float, weights: Sequence[float] | None = None
) -> float:
    """
    The conformal quantile of sorted ``values`` at level ``q``.

    The level is rounded outwards, as if one more sample of weight one could lie anywhere
    beyond: above the median, the smallest value with a weight of at least ``q (K + 1)`` at
    or below it, where ``K`` is the total weight; below the median the mirror image; the
    median itself is the plain (upper) weighted median. A new sample, drawn like the ``K``
    weighed ones, falls inside [low, high] at least as often as the levels say.

    Parameters
    ----------
    values
        Sorted ascending.
    q
        Level in (0, 1).
    weights
        Weight of each value, aligned with ``values``: the residuals of one route weigh one
        together. Every value weighs one by default (``K = n``): the rank is then
        ``ceil((n + 1) q)`` above the median and ``floor((n + 1) q)`` below it.
    """
    array = np.asarray(values, dtype=np.float64)
    w = np.ones(len(array)) if weights is None else np.asarray(weights, dtype=np.float64)
    return float(array[_rank(np.cumsum(w), q)])


def _rank(cumulative: NDArray[np.float64], q: float) -> int:
    """Index in sorted values of the conformal quantile, given their cumulative weights."""
    n = len(cumulative)
    total = float(cumulative[-1])
    if q == 0.5:
        return min(n - 1, int(np.searchsorted(cumulative, total / 2 + _EPS, "right")))
    need = (q if q > 0.5 else 1 - q) * (total + 1)
    if q > 0.5:
        if need > total + _EPS:  # beyond the data: the largest value held
            return n - 1
        return min(n - 1, int(np.searchsorted(cumulative, need - _EPS, "left")))
    # Below the median, the same rule counted from the top: the largest value with a weight
    # of at least ``need`` at or above it.
    above = total - np.concatenate(([0.0], cumulative[:-1]))  # weight at or above each value
    if need > total + _EPS:
        return 0
    return max(0, int(np.searchsorted(-above, -need + _EPS, "right")) - 1)


class ResidualPool:
    """
    Normalised residuals by lead band, each with the route it came from, as window offsets.

    Each band keeps its most recent ``max_residuals_per_band`` values. A band's quantiles are
    blended with those of all bands pooled, and those with a skewed prior, each weighing data
    by ``n / (n + prior_weight)``.
    """

    def __init__(self, config: LearningConfig) -> None:
        self.config = config
        edges = config.horizon_edges_s
        size = config.max_residuals_per_band
        self._z: list[deque[float]] = [deque(maxlen=size) for _ in range(len(edges) + 1)]
        # The route of each residual, as an index into _routes; -1: none (a sample of its own).
        self._ids: list[deque[int]] = [deque(maxlen=size) for _ in range(len(edges) + 1)]
        self._routes: list[str] = []
        self._route_index: dict[str, int] = {}
        self._levels = (config.low_quantile, 0.5, config.high_quantile)
        # A band's representative lead: its middle (the last band is taken as wide as the one
        # before it, or as its start where there is a single edge).
        if edges:
            last = edges[-1] + (edges[-1] - edges[-2] if len(edges) > 1 else edges[-1])
            bounds = [0.0, *edges, last]
            self._leads = [(a + b) / 2 for a, b in itertools.pairwise(bounds)]
        else:
            self._leads = [0.0]
        self._table: tuple[_Edge, list[float], _Edge] | None = None

    def __len__(self) -> int:
        return sum(len(band) for band in self._z)

    def band(self, seconds_ahead: float) -> int:
        """Index of the band a lead falls in (0: closer than the first edge)."""
        return bisect.bisect_right(self.config.horizon_edges_s, seconds_ahead)

    def scale_s(self, seconds_ahead: float) -> float:
        """Seconds of residual one unit of ``z`` stands for at this lead."""
        return max(seconds_ahead, 0.0) + self.config.horizon_floor_s

    def observe(self, residuals: Iterable[tuple[float, float]], route: str | None = None) -> None:
        """
        Learn (lead, actual - predicted) pairs, e.g. every prediction of one arrival.

        ``route`` names the route they come from (its residuals weigh one together); without
        it each residual counts as a sample of its own.
        """
        learnt = [
            (self.band(lead), residual / self.scale_s(lead))
            for lead, residual in residuals
            if math.isfinite(lead) and math.isfinite(residual) and lead >= 0
        ]
        if not learnt:
            return
        index = -1 if route is None else self._route_id(route)
        for band, z in learnt:
            self._z[band].append(z)
            self._ids[band].append(index)
        self._table = None

    def _route_id(self, route: str) -> int:
        index = self._route_index.get(route)
        if index is None:
            if len(self._routes) >= 2 * len(self._z) * self.config.max_residuals_per_band:
                self._forget_routes()
            index = self._route_index[route] = len(self._routes)
            self._routes.append(route)
        return index

    def _forget_routes(self) -> None:
        """Renumber the routes still held, so the table of names stays bounded."""
        held = sorted({i for ids in self._ids for i in ids if i >= 0})
        renumber = {old: new for new, old in enumerate(held)}
        self._routes = [self._routes[i] for i in held]
        self._route_index = {route: i for i, route in enumerate(self._routes)}
        for ids in self._ids:
            kept = [renumber.get(i, -1) for i in ids]
            ids.clear()
            ids.extend(kept)

    def window(self, horizon_s: float) -> Window:
        """Offsets (low, median, high) to add to a raw prediction ``horizon_s`` ahead."""
        if self._table is None:
            self._table = self._build()
        early, medians, late = self._table
        low, high = self._edge(early, horizon_s), self._edge(late, horizon_s)
        z = medians[self.band(horizon_s)]
        mid = z * self.scale_s(horizon_s) / (1 - z)
        return low, min(max(mid, low), high), high

    def _edge(self, edge: _Edge, horizon_s: float) -> float:
        """One edge at ``horizon_s``: between the knots linearly, constant ``z`` beyond."""
        hs, rs, first_z, last_z = edge
        if horizon_s <= hs[0] or horizon_s >= hs[-1]:
            z = first_z if horizon_s <= hs[0] else last_z
            return z * self.scale_s(horizon_s) / (1 - z)
        i = bisect.bisect_right(hs, horizon_s)
        share = (horizon_s - hs[i - 1]) / (hs[i] - hs[i - 1])
        return rs[i - 1] + share * (rs[i] - rs[i - 1])

    def _build(self) -> tuple[_Edge, list[float], _Edge]:
        """The early edge's knots (horizon, offset), each band's median ``z``, the late
        edge's knots."""
        zs = [np.fromiter(band, np.float64, len(band)) for band in self._z]
        ids = [np.fromiter(band, np.int64, len(band)) for band in self._ids]
        pooled = self._blend(np.concatenate(zs), np.concatenate(ids), self._prior())
        per_band = [self._blend(z, i, pooled) for z, i in zip(zs, ids, strict=True)]
        early, medians, late = ([min(q[level], MAX_Z) for q in per_band] for level in range(3))
        return self._knots(early), medians, self._knots(late)

    def _knots(self, capped: list[float]) -> _Edge:
        """An edge's point per band: offset ``z (L + floor)`` at horizon ``L - offset``."""
        hs: list[float] = []
        rs: list[float] = []
        for z, lead in zip(capped, self._leads, strict=True):
            r = z * self.scale_s(lead)
            if not hs or lead - r > hs[-1]:  # keep the horizons increasing
                hs.append(lead - r)
                rs.append(r)
        return hs, rs, capped[0], capped[-1]

    def _prior(self) -> Window:
        c, normal = self.config, statistics.NormalDist()
        m = c.prior_median_z
        return (
            m + normal.inv_cdf(c.low_quantile) * c.prior_early_sd_z,
            m,
            m + normal.inv_cdf(c.high_quantile) * c.prior_late_sd_z,
        )

    def _blend(self, z: NDArray[np.float64], ids: NDArray[np.int64], fallback: Window) -> Window:
        """
        Quantiles of ``z`` weighed against ``fallback``: the edges route-weighted and
        corrected for the number of routes, the median of all residuals alike (a point
        estimate, with no coverage to guarantee, is most precise from every residual).
        """
        n = len(z)
        if n == 0:
            return fallback
        order = np.argsort(z)
        z, ids = z[order], ids[order]
        own = ids < 0
        route = np.where(own, 0, ids)
        counts = np.bincount(route, weights=(~own).astype(np.float64))
        cumulative = np.cumsum(np.where(own, 1.0, 1.0 / np.maximum(counts[route], 1.0)))
        low_q, _, high_q = self._levels
        data = (
            float(z[_rank(cumulative, low_q)]),
            float(z[n // 2]),  # the conformal median, ceil((n + 1) / 2)-th of n
            float(z[_rank(cumulative, high_q)]),
        )
        weight = n / (n + self.config.prior_weight)
        low, mid, high = (
            weight * d + (1 - weight) * f for d, f in zip(data, fallback, strict=True)
        )
        return low, min(max(mid, low), high), high

    def to_state(self) -> dict[str, Any]:
        """JSON-able: the normalised residuals held, per band, and the routes they came from."""
        return {
            "edges": list(self.config.horizon_edges_s),
            "bands": [list(band) for band in self._z],
            "routes": [[self._routes[i] if i >= 0 else None for i in ids] for ids in self._ids],
        }

    def load(self, state: Mapping[str, Any]) -> None:
        """Take the state of :meth:`to_state`, unless its bands were set up differently (a
        state without routes, from before they were kept, counts each residual as one)."""
        if list(state["edges"]) != list(self.config.horizon_edges_s):
            return
        routes = state.get("routes") or [[None] * len(values) for values in state["bands"]]
        for band, values, keys in zip(range(len(self._z)), state["bands"], routes, strict=True):
            for z, key in zip(values, keys, strict=True):
                self._z[band].append(float(z))
                self._ids[band].append(-1 if key is None else self._route_id(str(key)))
        self._table = None


_Edge = tuple[list[float], list[float], float, float]
"""Knot horizons, knot offsets, and ``z`` below the first and beyond the last knot."""

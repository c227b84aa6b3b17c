"""Operations report metrics from row tuples (pure: no database, no web).

The repository aggregates in SQL into the rows below; each row may stand for many orders,
attempts or stops (its count), and a row with a count of one is a single order. So the same
functions compute a report from raw rows (the tests' hand-made data) and from SQL aggregates,
and both must agree. The definitions are written down in ``docs/reports.md``.
"""

from __future__ import annotations

import enum
import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from lastmile.routing import problem as rp
from lastmile.routing.emissions import route_co2_g, route_cost

Key = str | None  # the group: an ISO day, a hub or driver id, a vehicle type; None: unknown

ELECTRIC = frozenset({"ev_van", "drone"})
BIKE = frozenset({"cargo_bike"})


class Outcome(enum.StrEnum):
    """Where an order on a route ended: handed over, attempted and failed, or not yet tried."""

    delivered = "delivered"
    failed = "failed"
    open = "open"


@dataclass(frozen=True, slots=True)
class OrderRow:
    """``orders`` orders of one group and vehicle type that share an outcome and flags."""

    key: Key
    vehicle_type: str
    outcome: Outcome
    first_attempt: bool  # no failed attempt in the order's history
    on_time: bool | None  # delivered inside windows[0]; None: no window, or not delivered
    orders: int = 1
    parcels: int = 1


@dataclass(frozen=True, slots=True)
class RouteRow:
    """One route with its vehicle's rates and factors and how far it got."""

    key: Key
    vehicle_type: str
    distance_m: float  # planned
    duration_s: float  # planned
    stops: int
    visited: int  # stops with an arrival or departure recorded
    completed: bool
    fixed_cost: float = 0.0
    cost_per_km: float = 0.0
    cost_per_hour: float = 0.0
    co2_g_per_km: float = 0.0
    energy_kwh_per_km: float = 0.0

    @property
    def completion(self) -> float:
        """Share of the planned route driven: all of a completed route, else the share of
        its stops reached (a route without stops counts as driven once completed)."""
        if self.completed:
            return 1.0
        return self.visited / self.stops if self.stops else 0.0


@dataclass(frozen=True, slots=True)
class ReasonRow:
    """``attempts`` failed attempts of one group with the driver's reason code."""

    key: Key
    reason: str
    attempts: int = 1


@dataclass(frozen=True, slots=True)
class RatingRow:
    """``count`` customer ratings of ``rating`` stars for orders of one group."""

    key: Key
    rating: int
    count: int = 1


@dataclass(frozen=True, slots=True)
class DelayRow:
    """``stops`` stops of one group reached ``minutes`` after (negative: before) their planned
    arrival, rounded to the minute."""

    key: Key
    minutes: int
    stops: int = 1


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything a report is computed from."""

    orders: Sequence[OrderRow] = ()
    routes: Sequence[RouteRow] = ()
    reasons: Sequence[ReasonRow] = ()
    ratings: Sequence[RatingRow] = ()
    delays: Sequence[DelayRow] = ()


@dataclass(frozen=True, slots=True)
class GroupMetrics:
    """The report of one group (or of all of them: the totals)."""

    key: Key
    orders: int
    delivered: int
    failed: int
    parcels_delivered: int
    first_attempt_rate: float | None
    on_time_rate: float | None
    on_time_basis: int  # delivered orders with a promised window
    failed_attempts: int
    failure_reasons: dict[str, int]
    routes: int
    km: float
    driving_hours: float
    cost: float
    cost_per_parcel: float | None
    co2_kg: float
    co2_g_per_parcel: float | None
    ev_share: float | None
    bike_share: float | None
    rating_mean: float | None
    ratings: int
    arrival_delay_median_min: float | None
    arrival_delay_p90_min: float | None  # of the absolute delay


@dataclass
class _Tally:
    orders: int = 0
    delivered: int = 0
    failed: int = 0
    parcels: int = 0
    first_attempt: int = 0
    on_time: int = 0
    windowed: int = 0
    ev_parcels: int = 0
    bike_parcels: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    routes: int = 0
    km: float = 0.0
    hours: float = 0.0
    cost: float = 0.0
    co2_g: float = 0.0
    stars: int = 0
    ratings: int = 0
    delays: dict[int, int] = field(default_factory=dict)


def route_driven(route: RouteRow, grid_g_per_kwh: float) -> tuple[float, float, float, float]:
    """(km, hours, cost, grams CO2e) of a route so far: the plan times its completion.

    Cost and emissions use the routing core's methods on the vehicle's own rates and factors;
    a route not yet started costs nothing (not even its fixed cost).
    """
    share = route.completion
    if share <= 0:
        return 0.0, 0.0, 0.0, 0.0
    distance_m = round(route.distance_m * share)
    duration_s = round(route.duration_s * share)
    factors = rp.VehicleType(
        id=route.vehicle_type, depot_id="", capacity=rp.Load(), shift_start_s=0, shift_end_s=0,
        fixed_cost=route.fixed_cost, cost_per_km=route.cost_per_km,
        cost_per_hour=route.cost_per_hour, co2_g_per_km=route.co2_g_per_km,
        energy_kwh_per_km=route.energy_kwh_per_km,
    )  # fmt: skip
    return (
        distance_m / 1000,
        duration_s / 3600,
        route_cost(factors, distance_m, duration_s),
        route_co2_g(factors, distance_m, grid_g_per_kwh),
    )


def weighted_quantile(counts: dict[int, int], q: float) -> float | None:
    """The nearest-rank ``q`` quantile of values given as {value: how many}; None if empty."""
    total = sum(counts.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return float(value)
    return float(max(counts))  # pragma: no cover - rank <= total always stops the loop


def _ratio(part: float, whole: float, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole else None


def _finish(key: Key, t: _Tally) -> GroupMetrics:
    absolute: dict[int, int] = defaultdict(int)
    for minutes, n in t.delays.items():
        absolute[abs(minutes)] += n
    attempted = t.delivered + t.failed
    return GroupMetrics(
        key=key, orders=t.orders, delivered=t.delivered, failed=t.failed,
        parcels_delivered=t.parcels,
        first_attempt_rate=_ratio(t.first_attempt, attempted),
        on_time_rate=_ratio(t.on_time, t.windowed), on_time_basis=t.windowed,
        failed_attempts=sum(t.reasons.values()), failure_reasons=dict(sorted(t.reasons.items())),
        routes=t.routes, km=round(t.km, 2), driving_hours=round(t.hours, 2),
        cost=round(t.cost, 2), cost_per_parcel=_ratio(t.cost, t.parcels, 2),
        co2_kg=round(t.co2_g / 1000, 2), co2_g_per_parcel=_ratio(t.co2_g, t.parcels, 1),
        ev_share=_ratio(t.ev_parcels, t.parcels), bike_share=_ratio(t.bike_parcels, t.parcels),
        rating_mean=_ratio(t.stars, t.ratings, 2), ratings=t.ratings,
        arrival_delay_median_min=weighted_quantile(t.delays, 0.5),
        arrival_delay_p90_min=weighted_quantile(absolute, 0.9),
    )  # fmt: skip


K = TypeVar("K", bound=Hashable)


def _tally(data: ReportData, grid_g_per_kwh: float, group: Callable[[Key], K]) -> dict[K, _Tally]:
    tallies: dict[K, _Tally] = defaultdict(_Tally)
    for o in data.orders:
        t = tallies[group(o.key)]
        t.orders += o.orders
        if o.outcome is Outcome.failed:
            t.failed += o.orders
        if o.outcome is not Outcome.delivered:
            continue
        t.delivered += o.orders
        t.parcels += o.parcels
        t.first_attempt += o.orders if o.first_attempt else 0
        if o.on_time is not None:
            t.windowed += o.orders
            t.on_time += o.orders if o.on_time else 0
        t.ev_parcels += o.parcels if o.vehicle_type in ELECTRIC else 0
        t.bike_parcels += o.parcels if o.vehicle_type in BIKE else 0
    for r in data.routes:
        t = tallies[group(r.key)]
        km, hours, cost, co2_g = route_driven(r, grid_g_per_kwh)
        t.routes += 1
        t.km, t.hours, t.cost, t.co2_g = t.km + km, t.hours + hours, t.cost + cost, t.co2_g + co2_g
    for f in data.reasons:
        reasons = tallies[group(f.key)].reasons
        reasons[f.reason] = reasons.get(f.reason, 0) + f.attempts
    for s in data.ratings:
        t = tallies[group(s.key)]
        t.stars += s.rating * s.count
        t.ratings += s.count
    for d in data.delays:
        delays = tallies[group(d.key)].delays
        delays[d.minutes] = delays.get(d.minutes, 0) + d.stops
    return tallies


def summarize(data: ReportData, grid_g_per_kwh: float) -> list[GroupMetrics]:
    """One report per group, unknown group (None) last."""
    tallies = _tally(data, grid_g_per_kwh, lambda key: key)
    order = sorted(tallies, key=lambda k: (k is None, k or ""))
    return [_finish(key, tallies[key]) for key in order]


def overall(data: ReportData, grid_g_per_kwh: float) -> GroupMetrics:
    """The report of all groups together (rates from the summed counts, not averaged)."""
    tally = _tally(data, grid_g_per_kwh, lambda key: None).get(None, _Tally())
    return _finish(None, tally)


def delay_histogram(
    delays: Iterable[DelayRow], *, width: int = 5, low: int = -30, high: int = 60
) -> list[tuple[int, int]]:
    """Stops per ``width``-minute bin of arrival delay, as (bin start, stops).

    Bins run from ``low`` to ``high``; delays beyond either end are counted in the end bins,
    so no stop is left out of the picture.
    """
    starts = list(range(low, high, width))
    counts = dict.fromkeys(starts, 0)
    for d in delays:
        start = low + (d.minutes - low) // width * width
        counts[min(max(start, starts[0]), starts[-1])] += d.stops
    return list(counts.items())

"""``lastmile bench eta``: ETA windows on a simulated delivery day, against the plan's times.

A day of routes around Porto (the ``city`` bench's neighbourhoods and depot) is planned with
the straight-line van model and service times by delivery method. Each driver then runs it
with their own pace (lognormal), noisy legs, occasional parking searches and handling times
longer and noisier than planned; the phone sends a fix every ``ping_s`` with 5-20 m GPS
noise and a few urban-canyon outliers. All routes' fixes go, in time order, through one
:class:`~lastmile.eta.RouteTracker` each, sharing one :class:`~lastmile.eta.FleetLearning`.

Thirty minutes before each real arrival, the window then shown is recorded: ``mae_s`` is the
mean absolute error of its centre (``expected``), ``window_coverage`` the share of arrivals
inside it (p10-p90: the target is at least 80 %; the engine's finite-sample correction for the
few dozen routes it learns from aims a little above), against ``baseline_mae_s`` of the planned
arrival time in the same run.
"""

from __future__ import annotations

import heapq
import json
import math
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lastmile.bench.city import MAIN_DEPOT, NEIGHBOURHOODS
from lastmile.eta import (
    Arrived,
    Fix,
    FleetLearning,
    RouteTracker,
    StopEta,
    StopPlan,
    TrackingEvent,
)
from lastmile.eta.legs import distance_m
from lastmile.routing import DEFAULT_STRAIGHT_LINE_SPEEDS, DeliveryMethod, RoutingProfile
from lastmile.routing import service_time as planned_service

HOUR = 3600.0
DAY_START = 1_709_625_600.0 + 8 * HOUR  # 2024-03-05 08:00 UTC
LOOK_AHEAD_S = 1800.0  # predictions are scored 30 min before the real arrival
METERS_PER_DEGREE = 111_195.0
# (method key, share of stops, how much longer than planned handling really takes)
METHODS = (
    (DeliveryMethod.DOORSTEP.value, 0.70, 1.25),
    ("safe_place", 0.08, 0.9),
    (DeliveryMethod.LOCKER.value, 0.08, 1.0),
    (DeliveryMethod.PARCEL_SHOP.value, 0.07, 1.3),
    (DeliveryMethod.IN_HOME.value, 0.07, 1.1),
)
PLANNING_METHOD = {"safe_place": DeliveryMethod.DOORSTEP}


@dataclass(frozen=True, slots=True)
class SimulatedRoute:
    """A planned route and what really happened: arrivals at the stops and the fixes sent."""

    route_id: str
    stops: tuple[StopPlan, ...]
    arrivals: tuple[float, ...]
    fixes: tuple[Fix, ...]


def _offset(lat: float, lon: float, east_m: float, north_m: float) -> tuple[float, float]:
    return (
        lat + north_m / METERS_PER_DEGREE,
        lon + east_m / (METERS_PER_DEGREE * math.cos(math.radians(lat))),
    )


def _nearest_neighbour_order(
    points: list[tuple[float, float]], start: tuple[float, float]
) -> list[int]:
    left, order, here = set(range(len(points))), [], start
    while left:
        nxt = min(left, key=lambda i: (distance_m(here, points[i]), i))
        order.append(nxt)
        left.remove(nxt)
        here = points[nxt]
    return order


def simulate_route(
    index: int, stops_per_route: int, ping_s: float, rng: np.random.Generator
) -> SimulatedRoute:
    """Plan one route and drive it: the stops, the true arrival times and the fixes."""
    van = DEFAULT_STRAIGHT_LINE_SPEEDS[RoutingProfile.VAN]
    depot = (MAIN_DEPOT.location.lat, MAIN_DEPOT.location.lon)
    weights = np.asarray([n[3] for n in NEIGHBOURHOODS])
    hood = NEIGHBOURHOODS[int(rng.choice(len(NEIGHBOURHOODS), p=weights / weights.sum()))]
    spread = 2.0 * hood[2]
    raw = hood[:2] + rng.normal(size=(stops_per_route, 2)) * spread
    points = [(float(a), float(b)) for a, b in raw]
    points = [points[i] for i in _nearest_neighbour_order(points, depot)]
    shares = np.asarray([m[1] for m in METHODS])
    chosen = rng.choice(len(METHODS), size=stops_per_route, p=shares / shares.sum())
    parcels = 1 + rng.poisson(0.5, size=stops_per_route)

    # The plan.
    route_start = DAY_START + float(rng.uniform(0, HOUR))
    t, here, plans = route_start, depot, []
    for k, point in enumerate(points):
        method = METHODS[int(chosen[k])][0]
        rule = PLANNING_METHOD[method] if method in PLANNING_METHOD else DeliveryMethod(method)
        timing = planned_service(rule, int(parcels[k]))
        travel = distance_m(here, point) * van.circuity / (van.speed_kmh / 3.6)
        arrival = t + travel
        window = None
        if rng.random() < 0.07:  # an attended 2-hour window around the planned time
            opens = arrival - float(rng.uniform(0.25, 1.75)) * HOUR
            window = (opens, opens + 2 * HOUR)
        begin = arrival if window is None else max(arrival, window[0])
        departure = begin + timing.setup_s + timing.service_s
        promised = window or (arrival - 1800.0, arrival + 1800.0)
        plans.append(
            StopPlan(
                stop_id=f"r{index:02d}-s{k:03d}",
                lat=point[0],
                lon=point[1],
                planned_arrival=arrival,
                planned_departure=departure,
                travel_s=travel,
                method=method,
                promised_start=promised[0],
                promised_end=promised[1],
                not_before=None if window is None else window[0],
            )
        )
        t, here = departure, point

    # What really happens: (start, end, from, to) segments, driving or staying.
    pace = float(rng.lognormal(math.log(1.05), 0.12))
    t = route_start + max(0.0, float(rng.normal(120, 180)))
    here = depot
    segments: list[tuple[float, float, tuple[float, float], tuple[float, float]]] = []
    arrivals = []
    for k, stop in enumerate(plans):
        park = _offset(stop.lat, stop.lon, *rng.normal(0, 12, size=2))
        leg = stop.travel_s * pace * float(rng.lognormal(0, 0.25))
        if rng.random() < 0.1:
            leg += float(rng.exponential(180))  # looking for a parking spot
        corner = (here[0], park[1]) if rng.random() < 0.5 else (park[0], here[1])
        first = distance_m(here, corner)
        total = first + distance_m(corner, park)
        split = t + leg * (first / total if total > 0 else 0.5)
        segments += [(t, split, here, corner), (split, t + leg, corner, park)]
        t += leg
        arrivals.append(t)  # the real arrival: the van stops at its parking spot
        bias = METHODS[int(chosen[k])][2]
        handling = stop.planned_departure - max(stop.planned_arrival, stop.not_before or 0.0)
        begin = t if stop.not_before is None else max(t, stop.not_before)
        leave = begin + handling * bias * float(rng.lognormal(0, 0.35))
        segments.append((t, leave, park, park))
        t, here = leave, park
    segments.append((t, t + 300, here, here))
    return SimulatedRoute(
        f"r{index:02d}", tuple(plans), tuple(arrivals), tuple(_fixes(segments, ping_s, rng))
    )


def _fixes(
    segments: list[tuple[float, float, tuple[float, float], tuple[float, float]]],
    ping_s: float,
    rng: np.random.Generator,
) -> Iterator[Fix]:
    """A fix every ``ping_s`` along the segments, with GPS noise and rare large errors."""
    t, i = segments[0][0], 0
    while i < len(segments):
        start, end, a, b = segments[i]
        if t > end:
            i += 1
            continue
        share = 0.0 if end <= start else (t - start) / (end - start)
        lat, lon = a[0] + (b[0] - a[0]) * share, a[1] + (b[1] - a[1]) * share
        accuracy = float(rng.uniform(5, 20))
        error = accuracy / 1.5
        if rng.random() < 0.03:  # a reflection between tall buildings
            accuracy, error = float(rng.uniform(30, 60)), float(rng.uniform(60, 150))
        angle = float(rng.uniform(0, 2 * math.pi))
        size = abs(float(rng.normal(0, error)))
        lat, lon = _offset(lat, lon, size * math.cos(angle), size * math.sin(angle))
        yield Fix(t=t, lat=lat, lon=lon, accuracy_m=accuracy)
        t += ping_s


@dataclass(slots=True)
class DayScore:
    """Windows shown 30 min before each real arrival of one day, and what the trackers said."""

    errors: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    covered: list[bool] = field(default_factory=list)
    widths: list[float] = field(default_factory=list)
    missed: int = 0
    events: list[TrackingEvent] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        """The headline figures of the day."""
        return {
            "mae_s": round(float(np.mean(self.errors)), 1),
            "baseline_mae_s": round(float(np.mean(self.baseline)), 1),
            "window_coverage": round(float(np.mean(self.covered)), 4),
            "mean_window_width_s": round(float(np.mean(self.widths)), 1),
            "median_abs_error_s": round(float(np.median(self.errors)), 1),
            "baseline_median_abs_error_s": round(float(np.median(self.baseline)), 1),
            "predictions": len(self.errors),
        }


def replay_day(day: list[SimulatedRoute], learning: FleetLearning) -> DayScore:
    """Feed every route's fixes, in time order, to its tracker; score the 30-min windows."""
    depot = (MAIN_DEPOT.location.lat, MAIN_DEPOT.location.lon)
    trackers = [RouteTracker(route.route_id, route.stops, learning, start=depot) for route in day]
    # When to look at each stop's window: 30 min before its real arrival, once the route runs.
    due = [
        sorted(
            (arrival - LOOK_AHEAD_S, k)
            for k, arrival in enumerate(route.arrivals)
            if arrival - LOOK_AHEAD_S >= route.fixes[0].t
        )
        for route in day
    ]
    score = DayScore()
    stream = heapq.merge(*([(f.t, r, f) for f in route.fixes] for r, route in enumerate(day)))
    for _, r, fix in stream:
        score.events += trackers[r].observe(fix)
        if not due[r] or due[r][0][0] > fix.t:
            continue
        windows: dict[str, StopEta] = {eta.stop_id: eta for eta in trackers[r].etas()}
        while due[r] and due[r][0][0] <= fix.t:
            _, k = due[r].pop(0)
            stop, actual = day[r].stops[k], day[r].arrivals[k]
            eta = windows.get(stop.stop_id)
            if eta is None:  # already marked arrived: a false arrival
                score.missed += 1
                continue
            score.errors.append(abs(eta.expected - actual))
            score.baseline.append(abs(stop.planned_arrival - actual))
            score.covered.append(eta.earliest <= actual <= eta.latest)
            score.widths.append(eta.latest - eta.earliest)
    return score


def run_eta_bench(
    routes: int = 40,
    stops_per_route: int = 30,
    seed: int = 1,
    ping_s: float = 10.0,
    warm_days: int = 1,
) -> dict[str, Any]:
    """
    Simulate a day, track every route and score the windows shown 30 min before arrival.

    Parameters
    ----------
    routes, stops_per_route
        Size of the day.
    seed
        Everything random derives from it; the same seed gives the same figures.
    ping_s
        Seconds between fixes.
    warm_days
        Days replayed first whose learning the scored day starts from, carried over through
        ``FleetLearning.to_state``/``from_state`` as a server would; the first of them is
        reported as ``cold_start`` (an organisation's first day, learning from nothing).

    Returns
    -------
    dict
        ``mae_s``, ``baseline_mae_s``, ``window_coverage``, ``mean_window_width_s`` of the
        scored day, geofence figures, event counts, ``cold_start`` and the run's size and seed.
    """
    began = time.perf_counter()
    rng = np.random.default_rng(seed)
    learning = FleetLearning()
    cold_start: dict[str, Any] = {}
    for _ in range(warm_days):
        warm = [simulate_route(r, stops_per_route, ping_s, rng) for r in range(routes)]
        figures = replay_day(warm, learning).figures()
        cold_start = cold_start or figures
        learning = FleetLearning.from_state(json.loads(json.dumps(learning.to_state())))
    day = [simulate_route(r, stops_per_route, ping_s, rng) for r in range(routes)]
    score = replay_day(day, learning)
    events = score.events
    detected = {e.stop_id: e.arrived_at for e in events if isinstance(e, Arrived) and not e.manual}
    truth = {
        s.stop_id: a for route in day for s, a in zip(route.stops, route.arrivals, strict=True)
    }
    detection = [abs(detected[s] - truth[s]) for s in detected]
    stops = sum(len(route.stops) for route in day)
    return {
        **score.figures(),
        "predictions_missed": score.missed,
        "arrivals_detected_share": round(len(detected) / stops, 4),
        "arrival_detection_median_error_s": round(float(np.median(detection)), 1),
        "false_arrivals": sum(d > 300 for d in detection),
        "events": dict(sorted(Counter(e.kind for e in events).items())),
        "learned_dwell_s": {m[0]: round(learning.dwell_s(m[0]), 1) for m in METHODS},
        "routes": routes,
        "stops": stops,
        "fixes": sum(len(route.fixes) for route in day),
        "look_ahead_s": LOOK_AHEAD_S,
        "warm_days": warm_days,
        "cold_start": cold_start,
        "seed": seed,
        "elapsed_s": round(time.perf_counter() - began, 2),
    }

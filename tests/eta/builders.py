"""Straight routes and synthetic drives for the ETA tests, in metres east of a fixed origin."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from hypothesis import HealthCheck, settings

from lastmile.eta import Fix, StopPlan

T0 = 1_700_000_000.0  # a Tuesday morning, UNIX seconds
ORIGIN = (52.0, -8.6)
LEG_M = 600.0  # stops every 600 m east
SPEED_MPS = 6.0  # planned driving speed along the line
DWELL_S = 60.0  # planned time at each stop

# Few examples, no deadline (shared 2-core machines are slow), the same examples every run.
PROPERTY_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def point(east_m: float, north_m: float = 0.0) -> tuple[float, float]:
    """(lat, lon) this many metres east and north of the origin."""
    lat = ORIGIN[0] + north_m / 111_195.0
    lon = ORIGIN[1] + east_m / (111_195.0 * math.cos(math.radians(ORIGIN[0])))
    return lat, lon


def straight_route(n: int, method: str = "doorstep") -> list[StopPlan]:
    """``n`` stops every ``LEG_M`` east, starting ``LEG_M`` from the origin, planned at 6 m/s."""
    stops, t = [], T0
    for k in range(n):
        travel = LEG_M / SPEED_MPS
        t += travel
        lat, lon = point(LEG_M * (k + 1))
        stops.append(StopPlan(f"s{k}", lat, lon, t, t + DWELL_S, travel, method=method))
        t += DWELL_S
    return stops


def east(k: int) -> float:
    """Metres east of the origin of stop ``k`` of a straight route."""
    return LEG_M * (k + 1)


@dataclass(frozen=True, slots=True)
class Visit:
    """How the simulated vehicle treats one stop: the time it stays there (0: drives by)."""

    east_m: float
    stay_s: float


def drive(
    visits: Sequence[Visit],
    *,
    speed_mps: float = SPEED_MPS,
    ping_s: float = 10.0,
    start: float = T0,
    accuracy_m: float | None = 10.0,
) -> Iterator[Fix]:
    """Fixes of a vehicle leaving the origin and driving east through the visits in order."""
    t, here = start, 0.0
    plan: list[tuple[float, float, float, float]] = []  # (t0, t1, from, to)
    for visit in visits:
        leg = abs(visit.east_m - here) / speed_mps
        plan.append((t, t + leg, here, visit.east_m))
        t += leg
        if visit.stay_s > 0:
            plan.append((t, t + visit.stay_s, visit.east_m, visit.east_m))
            t += visit.stay_s
        here = visit.east_m
    plan.append((t, t + 120, here, here))
    now, end = start, plan[-1][1]
    while now <= end:
        t0, t1, a, b = next(p for p in plan if p[0] <= now <= p[1])
        share = 0.0 if t1 == t0 else (now - t0) / (t1 - t0)
        lat, lon = point(a + (b - a) * share)
        yield Fix(now, lat, lon, accuracy_m=accuracy_m)
        now += ping_s


def jitter(fix: Fix, east_m: float, north_m: float, accuracy_m: float | None) -> Fix:
    """The fix moved by a GPS error, reporting ``accuracy_m``."""
    lat = fix.lat + north_m / 111_195.0
    lon = fix.lon + east_m / (111_195.0 * math.cos(math.radians(fix.lat)))
    return Fix(fix.t, lat, lon, accuracy_m=accuracy_m)

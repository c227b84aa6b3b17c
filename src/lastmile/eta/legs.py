"""Planned driving time between stops and from the vehicle's position, without a road network.

The web process has no road graph, so the plan's own legs are the travel model: each leg's
effective speed is its straight-line length over its planned seconds, which carries the
road's circuity and speed. From a position mid-leg, the remaining time is the straight-line
distance to the stop at that leg's effective speed.

Times are zone to zone, as the geofences measure them: a stop is arrived when its arrival
circle is entered and departed when its departure circle is left, so the part of a leg inside
those circles belongs to the stops' dwell, not to driving. Without this, legs of a few hundred
metres would look 20-30 % faster than planned.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from lastmile.eta.model import StopPlan
from lastmile.routing.geo import great_circle_m, haversine_m

# Effective straight-line speeds outside this range are planning artefacts (a leg of 20 m
# planned at 2 minutes, or rounding on a long leg), not speeds to extrapolate from.
MIN_SPEED_MPS = 0.5
MAX_SPEED_MPS = 40.0


def distances_m(
    lat: float, lon: float, lats: NDArray[np.float64], lons: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Great-circle metres from one point to each of ``lats``/``lons``."""
    return haversine_m(np.asarray(lat), np.asarray(lon), lats, lons)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle metres between two (lat, lon) points."""
    return great_circle_m(a[0], a[1], b[0], b[1])


class LegModel:
    """
    Driving seconds at plan pace (multiply by the driver's pace factor).

    Parameters
    ----------
    stops
        The route's stops in planned order.
    start
        Where the route starts (lat, lon); without it the first leg's speed is the typical one.
    min_leg_m
        Legs shorter than this use the typical speed.
    fallback_speed_mps
        Typical speed when no leg is long enough to measure one.
    arrive_radius_m, depart_radius_m
        The geofence circles: driving inside them counts as dwell.
    """

    def __init__(
        self,
        stops: Sequence[StopPlan],
        start: tuple[float, float] | None,
        *,
        min_leg_m: float,
        fallback_speed_mps: float,
        arrive_radius_m: float,
        depart_radius_m: float,
    ) -> None:
        self.arrive_radius_m = arrive_radius_m
        self.depart_radius_m = depart_radius_m
        self.stops = tuple(stops)
        self.lats = np.array([s.lat for s in stops], dtype=np.float64)
        self.lons = np.array([s.lon for s in stops], dtype=np.float64)
        previous_lat = np.concatenate(([np.nan if start is None else start[0]], self.lats[:-1]))
        previous_lon = np.concatenate(([np.nan if start is None else start[1]], self.lons[:-1]))
        self.leg_m = haversine_m(previous_lat, previous_lon, self.lats, self.lons)
        travel = np.array([s.travel_s for s in stops], dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            speed = self.leg_m / travel
        usable = (self.leg_m >= min_leg_m) & (speed >= MIN_SPEED_MPS) & (speed <= MAX_SPEED_MPS)
        self.typical_speed_mps = (
            float(statistics.median(speed[usable].tolist())) if usable.any() else fallback_speed_mps
        )
        self._speed = np.where(usable, speed, self.typical_speed_mps)

    def between_s(self, a: int | None, b: int) -> float:
        """
        Seconds from leaving stop ``a`` (None: the route start) to reaching stop ``b``.

        Along a planned leg, its length outside the two circles at the leg's speed (so the
        planned ``travel_s`` less its part inside them); between stops served out of order,
        the straight line at the route's typical speed; from an unknown start, ``travel_s``.
        """
        if a is None and (b > 0 or np.isnan(self.leg_m[0])):
            return max(0.0, self.stops[b].travel_s)
        if a is None:
            outside, speed = float(self.leg_m[0]) - self.arrive_radius_m, float(self._speed[0])
        elif a == b - 1:
            outside = float(self.leg_m[b]) - self.arrive_radius_m - self.depart_radius_m
            speed = float(self._speed[b])
        else:
            gap = distance_m(self.point(a), self.point(b))
            outside = gap - self.arrive_radius_m - self.depart_radius_m
            speed = self.typical_speed_mps
        return max(0.0, outside) / speed

    def point(self, i: int) -> tuple[float, float]:
        """(lat, lon) of stop ``i``."""
        return self.stops[i].lat, self.stops[i].lon

    def approach_s(self, distance_m: float, b: int) -> float:
        """Seconds from ``distance_m`` away (straight line) to stop ``b``'s arrival circle."""
        return max(0.0, distance_m - self.arrive_radius_m) / float(self._speed[b])

"""Time-of-day congestion applied on top of any free-flow travel model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lastmile.routing.geo import Coordinate, as_arrays
from lastmile.routing.profiles import RoutingProfile
from lastmile.routing.travel import UNREACHABLE, TravelMatrices, TravelModel

HOURS_PER_DAY = 24


@dataclass(frozen=True, slots=True)
class CongestionProfile:
    """
    Speed factor for each hour of the day: 1.0 is free flow, 0.5 doubles travel times.

    Parameters
    ----------
    hourly_speed_factors
        Exactly 24 factors in (0, 1], index 0 covering 00:00-00:59 local time.
    """

    hourly_speed_factors: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.hourly_speed_factors) != HOURS_PER_DAY:
            raise ValueError("a congestion profile needs one factor per hour (24)")
        if not all(0 < f <= 1 for f in self.hourly_speed_factors):
            raise ValueError("speed factors must lie in (0, 1]")

    def factor_at(self, seconds_since_midnight: int) -> float:
        """Speed factor in force at the given local time of day."""
        hour = (seconds_since_midnight // 3600) % HOURS_PER_DAY
        return self.hourly_speed_factors[hour]


FREE_FLOW = CongestionProfile(hourly_speed_factors=(1.0,) * HOURS_PER_DAY)

URBAN_WEEKDAY = CongestionProfile(
    hourly_speed_factors=(
        1.0, 1.0, 1.0, 1.0, 1.0, 0.95,  # night
        0.85, 0.7, 0.65, 0.75, 0.85, 0.85,  # morning peak
        0.8, 0.8, 0.85, 0.8, 0.75, 0.65,  # afternoon into evening peak
        0.7, 0.8, 0.9, 0.95, 1.0, 1.0,  # evening
    )
)  # fmt: skip
"""A generic European city weekday; replace with measured factors where available."""


@dataclass(frozen=True, slots=True)
class CongestionZone:
    """
    A rectangular area with its own congestion profile (e.g. a city centre).

    Points inside several zones take the first matching zone.
    """

    name: str
    south: float
    west: float
    north: float
    east: float
    profile: CongestionProfile


class CongestedTravelModel:
    """
    Scales another model's durations by the speed factor at departure time.

    The factor of a trip is the mean of its origin's and destination's zone factors, so
    trips into a congested centre slow down by half its extra congestion. Distances are
    unchanged. PyVRP needs static matrices, so one departure time applies to a whole matrix.

    Parameters
    ----------
    base
        Free-flow travel model.
    default
        Profile for points outside every zone.
    zones
        Areas with their own profiles.
    profiles
        Routing profiles that congestion slows down; bikes and drones are unaffected by default.
    """

    def __init__(
        self,
        base: TravelModel,
        default: CongestionProfile = URBAN_WEEKDAY,
        zones: Sequence[CongestionZone] = (),
        profiles: frozenset[RoutingProfile] = frozenset({RoutingProfile.CAR, RoutingProfile.VAN}),
    ) -> None:
        self._base = base
        self._default = default
        self._zones = tuple(zones)
        self._profiles = profiles

    def matrices(
        self, points: Sequence[Coordinate], profile: RoutingProfile, departure_s: int = 0
    ) -> TravelMatrices:
        """Base matrices with durations divided by the departure-time speed factor."""
        free_flow = self._base.matrices(points, profile, departure_s)
        if profile not in self._profiles:
            return free_flow
        factors = np.full(len(points), self._default.factor_at(departure_s))
        lat, lon = as_arrays(points)
        claimed = np.zeros(len(points), dtype=bool)
        for zone in self._zones:
            inside = (
                ~claimed
                & (lat >= zone.south)
                & (lat <= zone.north)
                & (lon >= zone.west)
                & (lon <= zone.east)
            )
            factors[inside] = zone.profile.factor_at(departure_s)
            claimed |= inside
        pair_factor = (factors[:, None] + factors[None, :]) / 2
        reachable = free_flow.duration_s < UNREACHABLE
        duration = free_flow.duration_s.copy()
        duration[reachable] = np.rint(free_flow.duration_s[reachable] / pair_factor[reachable])
        return TravelMatrices(distance_m=free_flow.distance_m, duration_s=duration)

    def path(self, points: Sequence[Coordinate], profile: RoutingProfile) -> list[Coordinate]:
        """Congestion does not change the path."""
        return self._base.path(points, profile)

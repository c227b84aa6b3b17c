"""Straight-line travel: the zero-data fallback and the drone profile."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lastmile.routing.errors import UnsupportedProfile
from lastmile.routing.geo import Coordinate, haversine_matrix_m
from lastmile.routing.profiles import RoutingProfile
from lastmile.routing.travel import TravelMatrices, to_travel_matrices


@dataclass(frozen=True, slots=True)
class StraightLineSpeed:
    """
    How a profile covers straight-line distance.

    Parameters
    ----------
    speed_kmh
        Average speed over the (circuity-inflated) distance.
    circuity
        Ratio of travelled to great-circle distance; about 1.3 for city streets
        and 1.0 for flight.
    """

    speed_kmh: float
    circuity: float = 1.0

    def __post_init__(self) -> None:
        if self.speed_kmh <= 0 or self.circuity < 1.0:
            raise ValueError("speed must be positive and circuity at least 1")


DEFAULT_STRAIGHT_LINE_SPEEDS: Mapping[RoutingProfile, StraightLineSpeed] = {
    RoutingProfile.CAR: StraightLineSpeed(speed_kmh=28.0, circuity=1.35),
    RoutingProfile.VAN: StraightLineSpeed(speed_kmh=25.0, circuity=1.35),
    RoutingProfile.CARGO_BIKE: StraightLineSpeed(speed_kmh=15.0, circuity=1.25),
    RoutingProfile.DRONE: StraightLineSpeed(speed_kmh=60.0, circuity=1.0),
}
"""Urban averages: road profiles are inflated for street layout, drones fly direct."""


class HaversineModel:
    """
    Great-circle distance times a circuity factor, at a constant speed per profile.

    Parameters
    ----------
    speeds
        Speed and circuity for each supported profile.
    """

    def __init__(
        self, speeds: Mapping[RoutingProfile, StraightLineSpeed] = DEFAULT_STRAIGHT_LINE_SPEEDS
    ) -> None:
        self._speeds = dict(speeds)

    def matrices(
        self, points: Sequence[Coordinate], profile: RoutingProfile, departure_s: int = 0
    ) -> TravelMatrices:
        """Straight-line matrices; ``departure_s`` has no effect."""
        speed = self._speeds.get(profile)
        if speed is None:
            raise UnsupportedProfile(f"no straight-line speed for profile {profile!s}")
        distance = haversine_matrix_m(points) * speed.circuity
        return to_travel_matrices(distance, distance / (speed.speed_kmh / 3.6))

    def path(self, points: Sequence[Coordinate], profile: RoutingProfile) -> list[Coordinate]:
        """The points themselves: straight segments between consecutive stops."""
        return list(points)

"""Routing profiles: how a kind of vehicle moves through the city."""

from __future__ import annotations

from enum import StrEnum


class RoutingProfile(StrEnum):
    """
    The travel mode a vehicle type routes with; each gets its own travel matrices.

    ``CAR`` and ``VAN`` share the road network but differ in speed, ``CARGO_BIKE`` uses cycle
    infrastructure and ignores motor-vehicle bans, ``DRONE`` flies in a straight line.
    """

    CAR = "car"
    VAN = "van"
    CARGO_BIKE = "cargo_bike"
    DRONE = "drone"

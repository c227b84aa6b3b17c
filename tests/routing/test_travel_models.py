"""Straight-line, congestion and per-profile travel models."""

from __future__ import annotations

import numpy as np
import pytest

from lastmile.routing import (
    UNREACHABLE,
    URBAN_WEEKDAY,
    CongestedTravelModel,
    CongestionProfile,
    CongestionZone,
    Coordinate,
    HaversineModel,
    RoutingProfile,
    StraightLineSpeed,
    TravelModelByProfile,
    UnsupportedProfile,
)
from lastmile.routing.travel import to_travel_matrices

PORTO = Coordinate(41.1496, -8.6110)
LISBON = Coordinate(38.7223, -9.1393)
HOUR = 3600


def test_haversine_distance_matches_the_great_circle() -> None:
    """Porto to Lisbon is about 274 km as the crow flies, times the profile's circuity."""
    model = HaversineModel({RoutingProfile.VAN: StraightLineSpeed(50.0, circuity=1.2)})
    matrices = model.matrices([PORTO, LISBON], RoutingProfile.VAN)
    assert matrices.distance_m[0, 1] == pytest.approx(274_000 * 1.2, rel=0.01)
    assert matrices.distance_m[0, 1] == matrices.distance_m[1, 0]
    assert matrices.distance_m[0, 0] == 0


def test_haversine_duration_follows_profile_speed() -> None:
    """Duration is the inflated distance at the profile's speed."""
    matrices = HaversineModel().matrices([PORTO, LISBON], RoutingProfile.CARGO_BIKE)
    assert matrices.duration_s[0, 1] == pytest.approx(matrices.distance_m[0, 1] / (15 / 3.6), abs=1)


def test_drone_profile_flies_straight() -> None:
    """The default drone profile has no circuity, so its distance is the great circle."""
    drone = HaversineModel().matrices([PORTO, LISBON], RoutingProfile.DRONE)
    van = HaversineModel().matrices([PORTO, LISBON], RoutingProfile.VAN)
    assert drone.distance_m[0, 1] == pytest.approx(van.distance_m[0, 1] / 1.35, rel=1e-3)


def test_unknown_profile_raises() -> None:
    """A model asked for a profile it has no speed for raises UnsupportedProfile."""
    model = HaversineModel({RoutingProfile.VAN: StraightLineSpeed(30.0)})
    with pytest.raises(UnsupportedProfile):
        model.matrices([PORTO], RoutingProfile.DRONE)


def test_congestion_slows_the_peak_hour_only() -> None:
    """Durations at 08:00 are longer than at 03:00 by the profile's factor; distances equal."""
    model = CongestedTravelModel(HaversineModel(), URBAN_WEEKDAY)
    night = model.matrices([PORTO, LISBON], RoutingProfile.VAN, departure_s=3 * HOUR)
    peak = model.matrices([PORTO, LISBON], RoutingProfile.VAN, departure_s=8 * HOUR)
    factor = URBAN_WEEKDAY.factor_at(8 * HOUR)
    assert peak.duration_s[0, 1] == pytest.approx(night.duration_s[0, 1] / factor, abs=1)
    assert np.array_equal(peak.distance_m, night.distance_m)


def test_congestion_zone_slows_trips_touching_it() -> None:
    """A trip into a congested zone takes the mean of its end factors; others are untouched."""
    jam = CongestionProfile((0.5,) * 24)
    zone = CongestionZone("centre", 41.14, -8.62, 41.16, -8.60, jam)
    model = CongestedTravelModel(HaversineModel(), CongestionProfile((1.0,) * 24), [zone])
    outside = Coordinate(41.20, -8.70)
    free = HaversineModel().matrices([PORTO, outside, LISBON], RoutingProfile.VAN)
    slow = model.matrices([PORTO, outside, LISBON], RoutingProfile.VAN)
    assert slow.duration_s[0, 1] == pytest.approx(free.duration_s[0, 1] / 0.75, abs=1)
    assert slow.duration_s[1, 2] == free.duration_s[1, 2]


def test_congestion_leaves_bikes_alone() -> None:
    """Cargo bikes are not slowed by motor traffic by default."""
    model = CongestedTravelModel(HaversineModel(), URBAN_WEEKDAY)
    base = HaversineModel().matrices([PORTO, LISBON], RoutingProfile.CARGO_BIKE)
    peak = model.matrices([PORTO, LISBON], RoutingProfile.CARGO_BIKE, departure_s=8 * HOUR)
    assert np.array_equal(peak.duration_s, base.duration_s)


def test_congestion_profile_needs_24_valid_factors() -> None:
    """A profile with the wrong number of hours or a factor above 1 is rejected."""
    with pytest.raises(ValueError, match="24"):
        CongestionProfile((1.0,) * 23)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        CongestionProfile((1.5,) * 24)


def test_model_by_profile_dispatches_and_falls_back() -> None:
    """Each profile goes to its own model, others to the fallback, or raise without one."""
    slow = HaversineModel({RoutingProfile.DRONE: StraightLineSpeed(10.0)})
    model = TravelModelByProfile({RoutingProfile.DRONE: slow}, fallback=HaversineModel())
    drone = model.matrices([PORTO, LISBON], RoutingProfile.DRONE)
    van = model.matrices([PORTO, LISBON], RoutingProfile.VAN)
    assert drone.duration_s[0, 1] > van.duration_s[0, 1]
    with pytest.raises(UnsupportedProfile):
        TravelModelByProfile({}).matrices([PORTO], RoutingProfile.VAN)


def test_non_finite_entries_become_unreachable() -> None:
    """NaN and infinite travel values map to UNREACHABLE, the diagonal to zero."""
    raw = np.array([[np.nan, np.inf], [12.4, np.nan]])
    matrices = to_travel_matrices(raw, raw)
    assert matrices.distance_m.tolist() == [[0, UNREACHABLE], [12, 0]]

"""Driving time from the plan's own legs, measured between the geofence circles."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lastmile.eta import StopPlan
from lastmile.eta.legs import LegModel
from tests.eta.builders import point, straight_route

CIRCLES = {"min_leg_m": 100.0, "fallback_speed_mps": 5.0, "arrive_radius_m": 50.0}


def model(stops: list[StopPlan], start: tuple[float, float] | None = None) -> LegModel:
    return LegModel(stops, start, depart_radius_m=100.0, **CIRCLES)


def test_planned_legs_lose_their_part_inside_the_circles() -> None:
    """A 600 m leg planned at 100 s takes 75 s between leaving one circle and entering the next."""
    legs = model(straight_route(3), start=point(0))
    assert legs.typical_speed_mps == pytest.approx(6.0)
    assert legs.between_s(0, 1) == pytest.approx(75.0)
    assert legs.between_s(None, 0) == pytest.approx(100 * 550 / 600)
    assert legs.approach_s(350.0, 1) == pytest.approx(50.0)
    assert legs.approach_s(30.0, 1) == 0.0


def test_out_of_order_legs_use_the_straight_line_at_typical_speed() -> None:
    """From s0 straight to s2 (1,200 m) takes the line less the circles at 6 m/s."""
    legs = model(straight_route(3))
    assert legs.between_s(0, 2) == pytest.approx((1200 - 150) / 6.0)
    assert legs.between_s(2, 0) == legs.between_s(0, 2)


def test_unusable_legs_fall_back_to_the_typical_speed() -> None:
    """A long leg planned at 0 s, or a plan with no usable leg, drives at a sensible speed."""
    stops = straight_route(3)
    stops[1] = replace(stops[1], travel_s=0.0)
    assert model(stops).between_s(0, 1) == pytest.approx(450 / 6.0)
    no_times = [replace(s, travel_s=0.0) for s in stops]
    assert model(no_times).typical_speed_mps == 5.0

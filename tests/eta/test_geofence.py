"""Geofences: arrivals need a dwell, departures a wider circle; noise and order do not fool them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lastmile.eta import (
    Arrived,
    Departed,
    Fix,
    FleetLearning,
    RouteTracker,
    StopStatus,
    TrackingConfig,
    TrackingEvent,
)
from tests.eta.builders import T0, Visit, drive, east, point, straight_route


def run(tracker: RouteTracker, fixes: list[Fix]) -> list[TrackingEvent]:
    events: list[TrackingEvent] = []
    for fix in fixes:
        events += tracker.observe(fix)
    return events


def kinds(events: list[TrackingEvent], kind: type) -> list[str]:
    return [e.stop_id for e in events if isinstance(e, kind)]


def test_stops_arrive_and_depart_in_order() -> None:
    """Driving through three stops with a stay at each arrives and departs each once, in order."""
    tracker = RouteTracker("r", straight_route(3), FleetLearning())
    visits = [Visit(east(k), 90) for k in range(3)] + [Visit(east(4), 0)]
    events = run(tracker, list(drive(visits)))
    assert kinds(events, Arrived) == ["s0", "s1", "s2"]
    assert kinds(events, Departed) == ["s0", "s1", "s2"]
    assert [e.t for e in events] == sorted(e.t for e in events)
    states = tracker.stop_states
    assert all(s.status is StopStatus.DEPARTED for s in states.values())
    # Entering the 60 m circle at 6 m/s about 10 s before stopping; leaving 110 m at 6 m/s.
    s0 = states["s0"]
    assert s0.arrived_at is not None
    assert s0.departed_at is not None
    assert T0 + 80 <= s0.arrived_at <= T0 + 100
    assert 90 <= s0.departed_at - s0.arrived_at <= 130
    assert tracker.next_stop_id is None


def test_driving_past_a_stop_does_not_arrive() -> None:
    """A vehicle rolling through a stop's circle without stopping does not arrive there."""
    tracker = RouteTracker("r", straight_route(2), FleetLearning())
    events = run(tracker, list(drive([Visit(east(0), 0), Visit(east(1) + 400, 0)])))
    assert kinds(events, Arrived) == []
    assert tracker.stop_states["s1"].status is not StopStatus.ARRIVED


def test_one_outlier_fix_does_not_end_a_stop() -> None:
    """A single fix 300 m off while the vehicle stands at the stop does not depart it."""
    tracker = RouteTracker("r", straight_route(2), FleetLearning())
    fixes = list(drive([Visit(east(0), 120), Visit(east(1), 120)]))
    parked = next(i for i, f in enumerate(fixes) if f.t >= T0 + 100 + 40)
    lat, lon = point(east(0) + 300)
    fixes[parked] = replace(fixes[parked], lat=lat, lon=lon)
    events = run(tracker, fixes)
    departed = [e for e in events if isinstance(e, Departed) and e.stop_id == "s0"]
    assert len(departed) == 1
    assert departed[0].departed_at > T0 + 100 + 120


def test_reported_accuracy_widens_the_zone_up_to_a_cap() -> None:
    """Parked 65 m away arrives only if the fix admits 15+ m of error; 90 m away never does."""
    stops = straight_route(1)

    def arrives(offset_m: float, accuracy: float | None) -> bool:
        tracker = RouteTracker("r", stops, FleetLearning())
        lat, lon = point(east(0), offset_m)
        fixes = [Fix(T0 + 10 * i, lat, lon, accuracy_m=accuracy) for i in range(10)]
        return bool(kinds(run(tracker, fixes), Arrived))

    assert not arrives(65, None)
    assert arrives(65, 20)
    assert not arrives(90, 80)  # the slack is capped at 25 m


def test_vague_fixes_move_no_geofence() -> None:
    """Fixes worse than max_accuracy_m never arrive a stop, even standing on it."""
    tracker = RouteTracker("r", straight_route(1), FleetLearning())
    lat, lon = point(east(0))
    fixes = [Fix(T0 + 10 * i, lat, lon, accuracy_m=150) for i in range(10)]
    assert kinds(run(tracker, fixes), Arrived) == []


def test_stops_served_out_of_order_are_recognised_once() -> None:
    """Serving s1 before s0 arrives both, s1 first, and coming back to s1 fires nothing more."""
    tracker = RouteTracker("r", straight_route(3), FleetLearning())
    visits = [Visit(east(1), 90), Visit(east(0), 90), Visit(east(1), 90), Visit(east(2), 90)]
    events = run(tracker, list(drive(visits)))
    assert kinds(events, Arrived) == ["s1", "s0", "s2"]
    assert kinds(events, Departed) == ["s1", "s0"]


def test_a_skipped_stop_is_predicted_last() -> None:
    """After s0 is passed by and s1 served, the ETAs run s2, s3 and then s0."""
    tracker = RouteTracker("r", straight_route(4), FleetLearning())
    run(tracker, list(drive([Visit(east(0), 0), Visit(east(1), 90), Visit(east(1) + 300, 0)])))
    assert [eta.stop_id for eta in tracker.etas()] == ["s2", "s3", "s0"]
    assert tracker.next_stop_id == "s2"


def test_reaching_the_next_stop_departs_an_open_one() -> None:
    """After a gap in the fixes, arriving at s1 first departs s0, which was never seen leaving."""
    tracker = RouteTracker("r", straight_route(2), FleetLearning())
    at_s0 = [Fix(T0 + 10 * i, *point(east(0))) for i in range(5)]
    at_s1 = [Fix(T0 + 600 + 10 * i, *point(east(1))) for i in range(5)]
    events = run(tracker, at_s0 + at_s1)
    order = [(type(e).__name__, e.stop_id) for e in events if isinstance(e, Arrived | Departed)]
    assert order == [("Arrived", "s0"), ("Departed", "s0"), ("Arrived", "s1")]


def test_manual_confirmations() -> None:
    """A confirmed arrival fires once and the geofence does not repeat it; departing an unreached
    stop arrives it too, without learning a zero dwell; unknown stops raise KeyError."""
    learning = FleetLearning()
    tracker = RouteTracker("r", straight_route(3), learning)
    events = tracker.confirm_arrival("s0", T0 + 50)
    assert [(type(e).__name__, getattr(e, "manual", None)) for e in events][:1] == [
        ("Arrived", True)
    ]
    assert tracker.confirm_arrival("s0", T0 + 60) == []
    lat, lon = point(east(0))
    assert kinds(run(tracker, [Fix(T0 + 70 + 10 * i, lat, lon) for i in range(5)]), Arrived) == []
    events = tracker.confirm_departure("s1", T0 + 300)
    assert kinds(events, Arrived) == ["s1"]
    assert kinds(events, Departed) == ["s0", "s1"]  # s0 was left for s1
    assert learning.to_state()["dwells"]["doorstep"] == [250.0]  # s0's stay, not s1's zero
    assert tracker.confirm_departure("s1", T0 + 400) == []
    with pytest.raises(KeyError):
        tracker.confirm_arrival("nope", T0)


def test_stale_fixes_are_ignored() -> None:
    """A fix older than the last one changes nothing."""
    tracker = RouteTracker("r", straight_route(1), FleetLearning())
    tracker.observe(Fix(T0 + 100, *point(0)))
    state = tracker.to_state()
    assert tracker.observe(Fix(T0 + 50, *point(east(0)))) == []
    assert tracker.to_state() == state


def test_bus_like_config_arrives_without_dwell() -> None:
    """With arrive_dwell_s=0 a stop passed at speed is arrived and departed."""
    config = TrackingConfig(arrive_radius_m=30, arrive_dwell_s=0, depart_radius_m=50)
    tracker = RouteTracker("r", straight_route(2), FleetLearning(), config)
    events = run(tracker, list(drive([Visit(east(0), 0), Visit(east(1), 0)], ping_s=2)))
    assert kinds(events, Arrived) == ["s0", "s1"]
    assert kinds(events, Departed) == ["s0"]

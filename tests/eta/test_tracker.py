"""ETA rules of one tracker: legs from the plan, pace, waiting, debounce, events and resuming."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import pytest

from lastmile.eta import (
    Arrived,
    Arriving,
    AtRisk,
    Departed,
    EtaChanged,
    Fix,
    FleetLearning,
    RouteTracker,
    TrackingConfig,
    TrackingEvent,
    event_to_dict,
)
from tests.eta.builders import T0, Visit, drive, east, point, straight_route

IN_ZONES_S = (50 + 100) / 6  # default circles crossed at the plan's 6 m/s
DWELL_S = 52 + IN_ZONES_S  # doorstep default plus that driving
LEG_S = 100 * (600 - 150) / 600  # a planned 100 s leg less its parts inside the circles


def run(tracker: RouteTracker, fixes: list[Fix]) -> list[TrackingEvent]:
    events: list[TrackingEvent] = []
    for fix in fixes:
        events += tracker.observe(fix)
    return events


def stuck(east_m: float, start: float, seconds: float, ping: float = 10) -> list[Fix]:
    """A vehicle standing still ``east_m`` along the line."""
    lat, lon = point(east_m)
    return [Fix(start + k * ping, lat, lon) for k in range(int(seconds // ping) + 1)]


def test_eta_follows_the_planned_legs_from_the_position() -> None:
    """Mid-leg, the first stop is the straight-line rest at the leg's speed; the next adds the
    learnt dwell and the planned leg, less their parts inside the geofence circles."""
    tracker = RouteTracker("r", straight_route(3), FleetLearning())
    tracker.observe(Fix(T0 + 50, *point(300)))
    first, second, third = tracker.etas()
    assert first.expected == pytest.approx(T0 + 50 + (300 - 50) / 6)
    assert second.expected - first.expected == pytest.approx(DWELL_S + LEG_S)
    assert third.expected - second.expected == pytest.approx(DWELL_S + LEG_S)
    assert [e.stops_before for e in (first, second, third)] == [0, 1, 2]
    assert first.earliest <= first.expected <= first.latest < second.earliest


def test_pace_scales_driving_but_not_dwell() -> None:
    """A driver at half the planned speed gets a pace near 2 that doubles legs, not stops."""
    learning = FleetLearning()
    tracker = RouteTracker("r", straight_route(4), learning)
    run(tracker, list(drive([Visit(east(k), 60) for k in range(3)], speed_mps=3, ping_s=5)))
    assert 1.8 < tracker.pace < 2.1
    # Without residuals the windows are the prior's, centred on the raw prediction.
    state = {**learning.to_state(), "residuals": FleetLearning().to_state()["residuals"]}
    fresh = FleetLearning.from_state(state)
    resumed = RouteTracker.from_state("r", tracker.stops, fresh, tracker.to_state())
    (s3,) = resumed.etas()
    s2 = resumed.stop_states["s2"]
    assert s2.arrived_at is not None
    dwell = fresh.dwell_s("doorstep", IN_ZONES_S)
    assert s3.expected == pytest.approx(s2.arrived_at + dwell + resumed.pace * LEG_S)
    # The residuals it taught are its route's (they count as one sample of the windows).
    routes = learning.to_state()["residuals"]["routes"]
    assert learning.residual_count > 0
    assert {route for band in routes for route in band} == {"r"}


def test_waiting_for_a_window_start_delays_later_stops() -> None:
    """A stop that may not be served before 2,000 s holds every stop after it."""
    stops = straight_route(3)
    stops[1] = replace(stops[1], not_before=T0 + 2000)
    tracker = RouteTracker("r", stops, FleetLearning())
    tracker.observe(Fix(T0, *point(0)))
    etas = {e.stop_id: e for e in tracker.etas()}
    assert etas["s1"].expected < T0 + 2000
    assert etas["s2"].expected == pytest.approx(T0 + 2000 + DWELL_S + LEG_S)


def test_a_vehicle_waiting_at_the_start_leaves_at_the_planned_time() -> None:
    """Ten minutes early at the depot, the first ETA counts from the planned start, not now."""
    stops = straight_route(2)
    early = Fix(T0 - 600, *point(0))
    held = RouteTracker("r", stops, FleetLearning(), start=point(0))
    held.observe(early)
    assert held.etas()[0].expected == pytest.approx(T0 + 100 * (600 - 50) / 600)
    loose = RouteTracker("r", stops, FleetLearning())
    loose.observe(early)
    assert loose.etas()[0].expected == pytest.approx(T0 - 600 + (600 - 50) / 6)


def test_recomputation_is_debounced_except_on_arrivals_and_departures() -> None:
    """With fixes every 5 s, windows are recomputed at most every 30 s unless a stop changed."""
    config = TrackingConfig(eta_change_threshold_s=0)
    tracker = RouteTracker("r", straight_route(3), FleetLearning(), config)
    events = run(tracker, list(drive([Visit(east(k), 60) for k in range(3)], ping_s=5)))
    moves = {e.t for e in events if isinstance(e, Arrived | Departed)}
    times = sorted({e.t for e in events if isinstance(e, EtaChanged)})
    assert len(times) > 5
    for before, after in itertools.pairwise(times):
        assert after - before >= config.debounce_s or after in moves or before in moves


def test_eta_changed_fires_when_the_window_moves_past_the_threshold() -> None:
    """A vehicle stuck for 20 min moves the window 1 s per s: reported at +330, +660, +990 s."""
    tracker = RouteTracker("r", straight_route(2), FleetLearning())
    events = run(tracker, stuck(0, T0, 1200))
    changed = [e.t - T0 for e in events if isinstance(e, EtaChanged) and e.stop_id == "s0"]
    assert changed == [330, 660, 990]


def test_at_risk_sets_once_and_clears_only_clearly_inside() -> None:
    """A late window sets at_risk once; getting back within the margin keeps it, beyond clears."""
    stops = straight_route(2)
    stops[0] = replace(stops[0], promised_end=T0 + 800)

    def risk_events(margin: float) -> list[tuple[float, bool]]:
        config = TrackingConfig(at_risk_clear_margin_s=margin)
        tracker = RouteTracker("r", stops, FleetLearning(), config)
        fixes = stuck(0, T0, 670) + stuck(east(0) - 100, T0 + 680, 60)
        return [(e.t - T0, e.at_risk) for e in run(tracker, fixes) if isinstance(e, AtRisk)]

    assert risk_events(300) == [(660, True)]
    assert risk_events(60) == [(660, True), (690, False)]


def test_arriving_fires_once_when_the_previous_stop_is_left() -> None:
    """With no minutes look-ahead, each stop is 'arriving' once, when the one before departs."""
    config = TrackingConfig(arriving_minutes=0)
    tracker = RouteTracker("r", straight_route(3), FleetLearning(), config)
    events = run(tracker, list(drive([Visit(east(k), 60) for k in range(3)])))
    arriving = [(e.stop_id, e.t) for e in events if isinstance(e, Arriving)]
    departed = {e.stop_id: e.t for e in events if isinstance(e, Departed)}
    assert arriving[0] == ("s0", T0)
    assert arriving[1:] == [("s1", departed["s0"]), ("s2", departed["s1"])]


def test_a_resumed_tracker_continues_exactly() -> None:
    """Persisting tracker and learning as JSON mid-route and resuming gives the same events."""
    stops = straight_route(4)
    fixes = list(drive([Visit(east(k), 70) for k in range(4)]))
    half = len(fixes) // 2
    whole = RouteTracker("r", stops, FleetLearning(), start=point(0))
    expected = run(whole, fixes)
    first = RouteTracker("r", stops, FleetLearning(), start=point(0))
    events = run(first, fixes[:half])
    learning = FleetLearning.from_state(json.loads(json.dumps(first.learning.to_state())))
    state = json.loads(json.dumps(first.to_state()))
    resumed = RouteTracker.from_state("r", stops, learning, state)
    events += run(resumed, fixes[half:])
    assert events == expected
    assert resumed.stop_states == whole.stop_states
    assert resumed.etas() == whole.etas()


def test_state_for_other_stops_is_refused() -> None:
    """Resuming over a different stop list raises ValueError."""
    tracker = RouteTracker("r", straight_route(2), FleetLearning())
    with pytest.raises(ValueError, match="other stops"):
        RouteTracker.from_state("r", straight_route(3), FleetLearning(), tracker.to_state())


def test_events_serialise_with_their_kind() -> None:
    """event_to_dict gives a JSON-able dict naming the event's kind."""
    tracker = RouteTracker("r", straight_route(2), FleetLearning())
    (arrived, *_) = tracker.confirm_arrival("s0", T0)
    assert json.loads(json.dumps(event_to_dict(arrived))) == {
        "kind": "arrived",
        "stop_id": "s0",
        "t": T0,
        "arrived_at": T0,
        "manual": True,
    }

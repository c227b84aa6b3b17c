"""Properties over random journeys: ordered windows, and each stop's events fire at most once."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from lastmile.eta import (
    Arrived,
    Arriving,
    Departed,
    Fix,
    FleetLearning,
    RouteTracker,
    StopStatus,
    TrackingEvent,
)
from tests.eta.builders import PROPERTY_SETTINGS, Visit, drive, east, jitter, point, straight_route

Journey = tuple[int, list[Fix], dict[int, tuple[int, bool]]]


@st.composite
def journeys(draw: st.DrawFn) -> Journey:
    """Stops visited in any order with random stays, speed, pings, GPS noise and confirmations.

    Returns the stop count, the fixes, and manual confirmations keyed by fix index:
    (stop, arrival or departure).
    """
    n = draw(st.integers(2, 5))
    order = draw(st.permutations(range(n)))
    stays = draw(st.lists(st.sampled_from([0, 20, 45, 120]), min_size=n, max_size=n))
    visits = [Visit(east(k), stay) for k, stay in zip(order, stays, strict=True)]
    speed = draw(st.floats(2, 15))
    ping = draw(st.sampled_from([2, 5, 10, 30, 60]))
    fixes = list(drive([*visits, Visit(east(n) + 500, 0)], speed_mps=speed, ping_s=ping))
    noise, rng = draw(st.floats(0, 40)), random.Random(draw(st.integers(0, 2**16)))
    fixes = [jitter(f, rng.gauss(0, noise), rng.gauss(0, noise), noise or None) for f in fixes]
    confirm = st.tuples(st.integers(0, n - 1), st.booleans())
    confirmations = draw(st.dictionaries(st.integers(0, len(fixes) - 1), confirm, max_size=3))
    return n, fixes, confirmations


@PROPERTY_SETTINGS
@given(journeys())
def test_windows_are_ordered_and_in_the_future(journey: Journey) -> None:
    """After every fix each window has now <= earliest <= expected <= latest, for exactly the
    stops not yet reached, with stops_before counting up."""
    n, fixes, confirmations = journey
    tracker = RouteTracker("r", straight_route(n), FleetLearning(), start=point(0))
    for i, fix in enumerate(fixes):
        tracker.observe(fix)
        if i in confirmations:
            stop, arrival = confirmations[i]
            confirm = tracker.confirm_arrival if arrival else tracker.confirm_departure
            confirm(f"s{stop}", fix.t)
        etas = tracker.etas()
        for eta in etas:
            assert fix.t <= eta.earliest <= eta.expected <= eta.latest
        waiting = {
            sid
            for sid, s in tracker.stop_states.items()
            if s.status in (StopStatus.PENDING, StopStatus.ARRIVING)
        }
        assert sorted(e.stop_id for e in etas) == sorted(waiting)
        steps = [e.stops_before for e in etas]
        assert steps == sorted(set(steps))


@PROPERTY_SETTINGS
@given(journeys())
def test_each_stop_fires_each_event_once_in_time_order(journey: Journey) -> None:
    """Arriving, arrived and departed fire at most once per stop, departed after arrived, and
    all events come in time order."""
    n, fixes, confirmations = journey
    tracker = RouteTracker("r", straight_route(n), FleetLearning())
    events: list[TrackingEvent] = []
    for i, fix in enumerate(fixes):
        events += tracker.observe(fix)
        if i in confirmations:
            stop, arrival = confirmations[i]
            confirm = tracker.confirm_arrival if arrival else tracker.confirm_departure
            events += confirm(f"s{stop}", fix.t)
    for kind in (Arriving, Arrived, Departed):
        counts = Counter(e.stop_id for e in events if isinstance(e, kind))
        assert all(c == 1 for c in counts.values()), kind
    arrived = {e.stop_id: (k, e.arrived_at) for k, e in enumerate(events) if isinstance(e, Arrived)}
    for k, e in enumerate(events):
        if isinstance(e, Departed):
            assert arrived[e.stop_id][0] < k
            assert e.departed_at >= arrived[e.stop_id][1]
    times = [e.t for e in events]
    assert times == sorted(times)

"""A real bus journey (Limerick route 304, 2,144 fixes, 36 stops) replayed through a tracker."""

from __future__ import annotations

import csv
import itertools
import statistics
from datetime import datetime
from pathlib import Path

import pytest

from lastmile.eta import (
    Arrived,
    Departed,
    Fix,
    FleetLearning,
    RouteTracker,
    StopPlan,
    TrackingConfig,
    TrackingEvent,
)
from lastmile.eta.legs import distance_m
from lastmile.routing import DEFAULT_STRAIGHT_LINE_SPEEDS, RoutingProfile

DATA = Path(__file__).parent.parent / "data" / "gps_bus_limerick"
# A bus passes most stops at speed: it arrives on the first fix within 30 m of the stop (no
# dwell) and leaves on the first fix beyond 50 m. The trace has no accuracy field and little
# noise; stops are 140 m apart or more, so the circles never overlap.
BUS = TrackingConfig(
    arrive_radius_m=30.0, arrive_dwell_s=0.0, depart_radius_m=50.0, depart_fixes=1, debounce_s=10.0
)
LEADS_S = (1200, 600, 300, 120)  # how long before the real arrival a prediction is scored
Prediction = tuple[float, str, float]  # (made at, stop id, expected)
Replay = tuple[list[StopPlan], list[TrackingEvent], list[Prediction]]


def read_fixes() -> list[Fix]:
    with (DATA / "fixes.csv").open() as f:
        return [
            Fix(datetime.fromisoformat(r["t_iso"]).timestamp(), float(r["lat"]), float(r["lon"]))
            for r in csv.DictReader(f)
        ]


def planned_stops(start_t: float) -> list[StopPlan]:
    """The 36 stops in journey order, planned by the van's straight-line speed, 20 s each."""
    van = DEFAULT_STRAIGHT_LINE_SPEEDS[RoutingProfile.VAN]
    speed = van.speed_kmh / 3.6 / van.circuity
    with (DATA / "stops.csv").open() as f:
        rows = list(csv.DictReader(f))
    stops, t, previous = [], start_t, None
    for row in rows:
        here = (float(row["lat"]), float(row["lon"]))
        travel = 0.0 if previous is None else distance_m(previous, here) / speed
        t += travel
        stops.append(StopPlan(row["stop_id"], *here, t, t + 20, travel, method="bus_stop"))
        t, previous = t + 20, here
    return stops


@pytest.fixture(scope="module")
def replay() -> Replay:
    """Every fix through one tracker: the stops, all events, and every (now, stop, expected)."""
    fixes = read_fixes()
    stops = planned_stops(fixes[0].t)
    tracker = RouteTracker("304", stops, FleetLearning(), BUS)
    events: list[TrackingEvent] = []
    predictions: list[Prediction] = []
    for fix in fixes:
        events += tracker.observe(fix)
        predictions += [(fix.t, eta.stop_id, eta.expected) for eta in tracker.etas()]
    return stops, events, predictions


def test_data_is_the_whole_journey() -> None:
    """The fixture holds the 2,144 fixes over 75 minutes and the 36 stops."""
    fixes = read_fixes()
    assert len(fixes) == 2144
    assert fixes[-1].t - fixes[0].t == pytest.approx(4476)
    assert len(planned_stops(fixes[0].t)) == 36


def test_every_stop_is_arrived_then_departed_in_order(replay: Replay) -> None:
    """All 36 stops arrive in journey order; all but the last (the trace ends there) depart
    strictly after their arrival and before the next stop's."""
    stops, events, _ = replay
    arrived = {e.stop_id: e.arrived_at for e in events if isinstance(e, Arrived)}
    departed = {e.stop_id: e.departed_at for e in events if isinstance(e, Departed)}
    ids = [s.stop_id for s in stops]
    assert list(arrived) == ids
    assert list(departed) == ids[:-1]
    times = [arrived[ids[0]]]
    for a, b in itertools.pairwise(ids):
        times += [departed[a], arrived[b]]
    assert all(a < b for a, b in itertools.pairwise(times))


def _error_at(
    predictions: list[Prediction], stop_id: str, arrival: float, lead: float
) -> float | None:
    """|expected - actual| of the last prediction made at least ``lead`` before arrival."""
    made = [(now, expected) for now, sid, expected in predictions if sid == stop_id]
    before = [expected for now, expected in made if now <= arrival - lead]
    return abs(before[-1] - arrival) if before else None


def test_eta_error_shrinks_as_the_bus_approaches(replay: Replay) -> None:
    """The mean absolute ETA error 20, 10, 5 and 2 min before arrival strictly decreases (to
    under 2 min), and for at least 80 % of stops the 2-min error is below the 10-min one."""
    stops, events, predictions = replay
    arrived = {e.stop_id: e.arrived_at for e in events if isinstance(e, Arrived)}
    errors: dict[int, dict[str, float]] = {lead: {} for lead in LEADS_S}
    for stop in stops[1:]:
        for lead in LEADS_S:
            error = _error_at(predictions, stop.stop_id, arrived[stop.stop_id], lead)
            if error is not None:
                errors[lead][stop.stop_id] = error
    means = [statistics.mean(errors[lead].values()) for lead in LEADS_S]
    assert all(a > b for a, b in itertools.pairwise(means))  # measured: 386, 216, 114, 75 s
    assert means[-1] < 120
    both = [s for s in errors[600] if s in errors[120]]
    closer = sum(errors[120][s] < errors[600][s] for s in both)
    assert closer >= 0.8 * len(both)  # measured: 26 of 30

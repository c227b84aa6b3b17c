"""Route edits keep the live tracker's saved state usable over the new stop list."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from lastmile.db.engine import Database
from lastmile.eta.learning import FleetLearning
from lastmile.eta.model import StopStatus as TrackStatus
from lastmile.eta.tracker import RouteTracker
from lastmile.orders.models import Order
from lastmile.planning.models import Route, RouteStatus, RouteStop, StopStatus
from lastmile.selfservice.replan import carried_state
from lastmile.tracking.processor import stop_plans
from tests.factories import Tenant
from tests.selfservice.support import HOME, issue, roomy_route

POINTS = [(41.1440, -8.6150), (41.1468, -8.6108), HOME]


def tracker_of(db: Database, route_id: str) -> RouteTracker:
    """The route's tracker resumed from its saved state, as the processor would."""
    with db.unit_of_work(readonly=True) as session:
        route = session.get(Route, route_id)
        assert route is not None
        assert route.tracking_state is not None
        stops = list(route.stops)
        orders = {o.id: o for o in session.scalars(select(Order).where(Order.route_id == route_id))}
        for o in orders.values():
            _ = o.windows
        return RouteTracker.from_state(
            route_id, stop_plans(route, stops, orders), FleetLearning(), route.tracking_state
        )


def test_carried_state_follows_the_reached_stop_and_adds_new_ones() -> None:
    """Kept stops keep their bookkeeping, a new one starts unreached, the cursor moves with
    the stop reached last; a removed reached stop cannot be carried."""
    state = {"cursor": 1, "stops": {"a": {"status": "departed"}, "b": {"status": "pending"}}}
    carried = carried_state(state, ["a", "b"], ["a", "new", "b"])
    assert carried is not None
    assert carried["cursor"] == 1
    assert list(carried["stops"]) == ["a", "new", "b"]
    assert carried["stops"]["a"] == {"status": "departed"}
    assert carried["stops"]["new"]["status"] == "pending"
    assert carried_state(state, ["a", "b"], ["b"]) is None
    assert carried_state(None, ["a"], ["a"]) is None


def test_redirect_mid_route_keeps_the_tracker_resumable(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """After the driver left the first stop, a later order's new locker stop leaves a saved
    state the tracker resumes from, with the first stop still departed."""
    route = roomy_route(client, database, tenant, POINTS)
    with database.unit_of_work() as session:
        session.execute(
            update(Route).where(Route.id == route.route_id).values(status=RouteStatus.in_progress)
        )
        session.execute(
            update(RouteStop)
            .where(RouteStop.id == route.stop_ids[0])
            .values(status=StopStatus.departed)
        )
    with database.unit_of_work() as session:
        row = session.get(Route, route.route_id)
        assert row is not None
        stops = list(row.stops)
        orders = {o.id: o for o in session.scalars(select(Order).where(Order.route_id == row.id))}
        tracker = RouteTracker(row.id, stop_plans(row, stops, orders), FleetLearning())
        tracker.confirm_arrival(stops[0].id, 100.0)
        tracker.confirm_departure(stops[0].id, 160.0)
        row.tracking_state = tracker.to_state()
    token = issue(client, tenant, route.order_ids[2])["token"]
    response = client.post(
        f"/v1/self-service/{token}/redirect", json={"pickup_point_id": tenant.locker_id}
    )
    assert response.status_code == 200, response.text
    resumed = tracker_of(database, route.route_id)
    assert len(resumed.stops) == 3
    assert resumed.stop_states[route.stop_ids[0]].status is TrackStatus.DEPARTED
    assert resumed.next_stop_id == route.stop_ids[1]

"""Re-planning the rest of a route: same stops, windows kept, refused when nothing is left."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from lastmile.db.engine import Database
from lastmile.orders.models import DeliveryWindow
from lastmile.planning.models import Route, RouteStatus, RouteStop, StopStatus
from tests.dispatch.conftest import build_route
from tests.factories import Tenant

# A zig-zag: visiting in this order crosses the town twice.
ZIGZAG = [(41.150, -8.640), (41.150, -8.580), (41.151, -8.635), (41.151, -8.585)]


def _replan(client: TestClient, tenant: Tenant, route_id: str) -> Any:
    return client.post(
        f"/v1/routes/{route_id}/replan", json={"time_limit_s": 0.5},
        headers=tenant.headers("dispatcher"),
    )  # fmt: skip


def test_replan_keeps_the_stops_and_their_windows(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """The remaining stops come back reordered, none lost or added, numbered 1..n, each
    planned within its window and in time order, and the route gets no longer."""
    route = build_route(client, database, tenant, ZIGZAG)
    response = _replan(client, tenant, route.route_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert sorted(body["after"]) == sorted(body["before"]) == sorted(route.stop_ids)
    assert body["changed"] is True
    stops = body["route"]["stops"]
    assert [s["position"] for s in stops] == [1, 2, 3, 4]
    assert [s["id"] for s in stops] == body["after"]
    with database.unit_of_work(readonly=True) as session:
        rows = session.execute(select(DeliveryWindow.order_id, DeliveryWindow.ends_at)).all()
    ends = {order_id: end for order_id, end in rows}
    previous = None
    for stop in stops:
        arrival = datetime.fromisoformat(stop["planned_arrival"])
        assert all(arrival <= ends[o] for o in stop["order_ids"])
        if previous is not None:
            assert arrival >= previous
        previous = datetime.fromisoformat(stop["planned_departure"])
    assert (
        body["distance_km_after"] <= body["distance_km_before"] or body["distance_km_before"] == 0
    )


def test_replan_leaves_reached_stops_where_they_are(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """A stop already visited keeps its place; only the ones after it are re-sequenced."""
    route = build_route(client, database, tenant, ZIGZAG)
    with database.unit_of_work() as session:
        session.execute(
            update(RouteStop).where(RouteStop.id == route.stop_ids[0])
            .values(status=StopStatus.departed)
        )  # fmt: skip
        session.execute(
            update(Route).where(Route.id == route.route_id).values(status=RouteStatus.in_progress)
        )
    response = _replan(client, tenant, route.route_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert route.stop_ids[0] not in body["before"]
    assert body["route"]["stops"][0]["id"] == route.stop_ids[0]
    assert sorted(body["after"]) == sorted(route.stop_ids[1:])


def test_replan_with_nothing_left_is_409(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """Every stop visited (or the route completed): nothing to re-plan."""
    route = build_route(client, database, tenant, ZIGZAG[:2])
    with database.unit_of_work() as session:
        session.execute(
            update(RouteStop).where(RouteStop.route_id == route.route_id)
            .values(status=StopStatus.departed)
        )  # fmt: skip
    assert _replan(client, tenant, route.route_id).status_code == 409
    with database.unit_of_work() as session:
        session.execute(
            update(Route).where(Route.id == route.route_id).values(status=RouteStatus.completed)
        )
    assert _replan(client, tenant, route.route_id).status_code == 409

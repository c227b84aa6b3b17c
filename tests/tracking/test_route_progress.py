"""Fixes move a route along: geofences set stop and order states, ETAs and live events follow,
and each customer sees the driver only while the driver heads to their stop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from lastmile.db.engine import Database
from lastmile.fleet.models import Depot
from lastmile.live.channels import fleet_channel, order_channel
from lastmile.live.events import LiveEvent
from lastmile.orders.models import Order
from lastmile.planning.models import Route, RouteStop
from tests.factories import Tenant
from tests.helpers import assert_problem, run_async
from tests.tracking.builders import BuiltRoute, committed_route, iso

# Three doors 3 km apart on a line north of the depot (41.15, -8.61).
STOPS = [(41.1770, -8.6100), (41.2040, -8.6100), (41.2310, -8.6100)]
DEPOT = (41.15, -8.61)


def path(a: tuple[float, float], b: tuple[float, float], n: int) -> list[tuple[float, float]]:
    return [(a[0] + (b[0] - a[0]) * i / n, a[1] + (b[1] - a[1]) * i / n) for i in range(1, n + 1)]


class Drive:
    """Posts fixes every 5 s of simulated time, ending now."""

    def __init__(self, client: TestClient, tenant: Tenant, start: datetime) -> None:
        self.client, self.tenant, self.t = client, tenant, start

    def go(self, points: list[tuple[float, float]]) -> dict[str, Any]:
        fixes = []
        for lat, lon in points:
            self.t += timedelta(seconds=5)
            fixes.append({"t": iso(self.t), "lat": lat, "lon": lon, "accuracy": 6.0})
        response = self.client.post(
            "/v1/positions", json={"fixes": fixes}, headers=self.tenant.headers("driver")
        )
        assert response.status_code == 200, response.text
        assert response.json()["refused"] == []
        return dict(response.json())

    def stay(self, point: tuple[float, float], seconds: int) -> None:
        self.go([point] * (seconds // 5))


def states(db: Database, route: BuiltRoute) -> list[str]:
    with db.unit_of_work(readonly=True) as s:
        stops = s.scalars(
            select(RouteStop)
            .where(RouteStop.route_id == route.route_id)
            .order_by(RouteStop.position)
        )
        return [stop.status.value for stop in stops]


def order_states(db: Database, route: BuiltRoute) -> list[str]:
    with db.unit_of_work(readonly=True) as s:
        orders = {o.id: o.status.value for o in s.scalars(select(Order))}
    return [orders[o] for o in route.order_ids]


def collect(client: TestClient, channels: list[str], act: Callable[[], None]) -> list[LiveEvent]:
    """Live events published on ``channels`` while ``act`` runs."""
    broker = client.app.state.tracking.broker  # type: ignore[attr-defined]

    async def run() -> list[LiveEvent]:
        async with broker.subscribe(*channels) as sub:
            await asyncio.to_thread(act)
            events = []
            while (event := await sub.next(0.2)) is not None:
                events.append(event)
            return events

    return run_async(run())


def test_a_driven_route_moves_stops_orders_and_etas(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """Arrive and leave stop 1: stop states, order states, ETAs and visibility all follow."""
    with database.unit_of_work() as s:
        depot = s.get(Depot, tenant.depot_id)
        assert depot is not None
        depot.lat, depot.lon = DEPOT
    start = datetime.now(UTC) - timedelta(minutes=20)
    # 20-minute legs: only the first stop is within the 30-minute "arriving" look-ahead.
    route = committed_route(client, database, tenant, STOPS, starts_at=start, leg_s=1200)
    drive = Drive(client, tenant, start)
    links = [
        client.post(f"/v1/orders/{o}/tracking-links", headers=tenant.headers("merchant")).json()
        for o in route.order_ids
    ]

    drive.go([DEPOT])
    assert order_states(database, route) == ["arriving", "out_for_delivery", "out_for_delivery"]
    assert states(database, route) == ["arriving", "pending", "pending"]
    first = client.get(f"/v1/tracking/{links[0]['token']}").json()
    assert first["driver"] is not None
    assert first["path"][0] == [DEPOT[0], DEPOT[1]]
    third = client.get(f"/v1/tracking/{links[2]['token']}").json()
    assert third["driver"] is None
    assert third["path"] is None
    assert third["stops_before"] == 2
    assert third["eta"]["earliest"] <= third["eta"]["expected"] <= third["eta"]["latest"]

    drive.go(path(DEPOT, STOPS[0], 40))
    drive.stay(STOPS[0], 60)
    assert states(database, route)[0] == "arrived"
    assert order_states(database, route)[0] == "arriving"

    def leave() -> None:
        drive.go(path(STOPS[0], STOPS[1], 10))

    events = collect(
        client,
        [order_channel(o) for o in route.order_ids] + [fleet_channel(tenant.organization_id)],
        leave,
    )
    assert states(database, route)[:2] == ["departed", "arriving"]
    with database.unit_of_work(readonly=True) as s:
        stop = s.get(RouteStop, route.stop_ids[0])
        assert stop is not None
        assert stop.arrived_at is not None
        assert stop.departed_at is not None
        assert stop.departed_at - stop.arrived_at >= timedelta(seconds=50)
        later = s.get(RouteStop, route.stop_ids[2])
        assert later is not None
        assert later.eta_expected is not None
        assert later.eta_earliest is not None
        assert later.eta_latest is not None
        assert later.eta_earliest <= later.eta_expected <= later.eta_latest
        assert s.get(Route, route.route_id).tracking_state is not None  # type: ignore[union-attr]

    kinds = [(e.kind, dict(e.data)) for e in events]
    fleet_stops = [d for k, d in kinds if k == "stop"]
    assert {"stop_id": route.stop_ids[0], "status": "departed"}.items() <= fleet_stops[0].items()
    assert any(k == "position" for k, d in kinds if "vehicle_id" in d)
    # The second customer now sees the driver; the third still does not.
    second = client.get(f"/v1/tracking/{links[1]['token']}").json()
    assert second["driver"] is not None
    assert second["stops_before"] == 0
    assert client.get(f"/v1/tracking/{links[2]['token']}").json()["driver"] is None


def test_private_events_reach_only_the_customer_being_approached(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """Position events go to the order at the next stop only, never to later ones."""
    start = datetime.now(UTC) - timedelta(minutes=20)
    route = committed_route(client, database, tenant, STOPS, starts_at=start, leg_s=120)
    drive = Drive(client, tenant, start)
    drive.go([DEPOT])
    events_by_order: dict[str, list[str]] = {}

    for order_id in route.order_ids:
        got = collect(
            client, [order_channel(order_id)], lambda: drive.go(path(DEPOT, STOPS[0], 40)[:3])
        )
        events_by_order[order_id] = [e.kind for e in got]
    assert "position" in events_by_order[route.order_ids[0]]
    for later in route.order_ids[1:]:
        assert "position" not in events_by_order[later]


def test_driver_confirms_arrival_and_departure_by_hand(
    client: TestClient, database: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    """Manual confirmation moves the stop without any fix; other tenants cannot."""
    route = committed_route(client, database, tenant, STOPS)
    url = f"/v1/routes/{route.route_id}/stops/{route.stop_ids[1]}"
    assert_problem(client.post(f"{url}/arrival", headers=other_tenant.headers("driver")), 404)
    arrived = client.post(f"{url}/arrival", headers=tenant.headers("driver"))
    assert arrived.status_code == 200, arrived.text
    assert arrived.json()["status"] == "arrived"
    left = client.post(f"{url}/departure", json={"at": iso(datetime.now(UTC))},
                       headers=tenant.headers("driver"))  # fmt: skip
    assert left.json()["status"] == "departed"
    assert left.json()["departed_at"]
    assert states(database, route)[1] == "departed"
    assert_problem(client.post(f"{url}/sideways", headers=tenant.headers("driver")), 422)


def test_a_window_that_no_longer_fits_its_promise_raises_at_risk(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """Stops whose ETA window ends after the promised window are flagged at once, live."""
    start = datetime.now(UTC) - timedelta(minutes=1)
    # Promised until 45 minutes after the start: the first stop (planned 20 minutes in, its
    # window reaching about 12 minutes later) fits, the third (an hour in) cannot.
    route = committed_route(
        client, database, tenant, STOPS, starts_at=start, leg_s=1200, window_h=0.75
    )
    drive = Drive(client, tenant, start)
    events = collect(client, [fleet_channel(tenant.organization_id)], lambda: drive.go([DEPOT]))
    risky = {e.data["stop_id"] for e in events if e.kind == "at_risk" and e.data["at_risk"]}
    assert route.stop_ids[2] in risky
    assert route.stop_ids[0] not in risky
    with database.unit_of_work(readonly=True) as s:
        stop = s.get(RouteStop, route.stop_ids[2])
        assert stop is not None
        assert stop.at_risk
    link = client.post(
        f"/v1/orders/{route.order_ids[2]}/tracking-links", headers=tenant.headers("merchant")
    ).json()
    assert client.get(f"/v1/tracking/{link['token']}").json()["eta"]["at_risk"] is True


def test_any_status_move_reaches_the_customer_live(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """A driver marking the order delivered (not a geofence) is pushed to its live view."""
    start = datetime.now(UTC) - timedelta(minutes=5)
    route = committed_route(client, database, tenant, STOPS, starts_at=start, leg_s=1200)
    Drive(client, tenant, start).go([DEPOT])
    order_id = route.order_ids[0]

    def deliver() -> None:
        response = client.post(
            f"/v1/orders/{order_id}/transitions",
            json={"status": "delivered"},
            headers=tenant.headers("driver"),
        )
        assert response.status_code == 200, response.text

    events = collect(client, [order_channel(order_id)], deliver)
    assert [(e.kind, e.data["status"], e.data["label"]) for e in events] == [
        ("status", "delivered", "Delivered")
    ]


def test_a_route_completes_when_every_stop_is_left(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """Leaving the last stop completes the route; its driver can still report positions."""
    route = committed_route(client, database, tenant, STOPS)
    for stop_id in route.stop_ids:
        for what in ("arrival", "departure"):
            response = client.post(
                f"/v1/routes/{route.route_id}/stops/{stop_id}/{what}",
                headers=tenant.headers("driver"),
            )
            assert response.status_code == 200, response.text
    with database.unit_of_work(readonly=True) as s:
        done = s.get(Route, route.route_id)
        assert done is not None
        assert done.status.value == "completed"
    back = Drive(client, tenant, datetime.now(UTC) - timedelta(seconds=30)).go([DEPOT])
    assert back["vehicle_id"] == route.vehicle_id

"""Board, map, plan comparison, notifying the customer, and who may use dispatch at all."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lastmile.db.engine import Database
from lastmile.kit.ids import new_id
from lastmile.planning.models import Plan, PlanStatus
from lastmile.planning.schemas import (
    Load,
    PlanResult,
    ProposedRoute,
    ProposedStop,
    UnassignedOrder,
)
from tests.dispatch.conftest import Day, build_route
from tests.factories import Tenant


def test_board_has_every_route_with_its_stops(client: TestClient, tenant: Tenant, day: Day) -> None:
    """One row per route with vehicle, driver and stops in order with promise and orders."""
    response = client.get("/v1/dispatch/board", headers=tenant.headers("dispatcher"))
    assert response.status_code == 200, response.text
    routes = {r["route_id"]: r for r in response.json()["routes"]}
    assert set(routes) == {day.west.route_id, day.east.route_id}
    west = routes[day.west.route_id]
    assert west["driver"] == {"id": tenant.driver_id, "name": "Dee River"}
    assert west["vehicle"]["id"] == day.west.vehicle_id
    assert [s["stop_id"] for s in west["stops"]] == day.west.stop_ids
    assert [s["orders"][0]["order_id"] for s in west["stops"]] == day.west.order_ids
    first = west["stops"][0]
    promised_end = datetime.fromisoformat(first["promised_end"])
    assert promised_end == day.west.starts_at + timedelta(hours=4)
    assert (west["stops_total"], west["stops_done"], west["late"]) == (3, 0, 0)


def test_map_is_geojson_of_routes_stops_depots_and_lockers(
    client: TestClient, tenant: Tenant, day: Day
) -> None:
    """Route lines, stop points, the depot and the locker, each saying what it is."""
    response = client.get("/v1/dispatch/map", headers=tenant.headers("dispatcher"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "FeatureCollection"
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for feature in body["features"]:
        by_kind.setdefault(feature["properties"]["feature"], []).append(feature)
    assert {f["properties"]["route_id"] for f in by_kind["route"]} == {
        day.west.route_id, day.east.route_id
    }  # fmt: skip
    assert all(f["geometry"]["type"] == "LineString" for f in by_kind["route"])
    assert len(by_kind["stop"]) == 6
    assert [f["properties"]["depot_id"] for f in by_kind["depot"]] == [tenant.depot_id]
    assert [f["properties"]["pickup_point_id"] for f in by_kind["pickup_point"]] == [
        tenant.locker_id
    ]


def _proposal(vehicle_id: str, start: datetime) -> PlanResult:
    def stop(i: int, arrive_min: int, leave_min: int, slack_s: int) -> ProposedStop:
        return ProposedStop(
            position=i, kind="stop", depot_id=None, order_ids=[f"ord_{i}"], lat=41.15,
            lon=-8.61, arrival=start + timedelta(minutes=arrive_min),
            service_start=start + timedelta(minutes=arrive_min),
            departure=start + timedelta(minutes=leave_min), waiting_s=0, slack_s=slack_s,
            load_after=Load(parcels=0, kg=0, litres=0),
        )  # fmt: skip

    route = ProposedRoute(
        vehicle_id=vehicle_id, driver_id=None, start_depot_id="dep", end_depot_id="dep",
        starts_at=start, ends_at=start + timedelta(hours=2), distance_km=12.5, driving_h=1.5,
        duration_h=2.0, cost=40.0, co2_kg=2.5, load_at_start=Load(parcels=2, kg=2, litres=2),
        stops=[stop(1, 10, 15, 300), stop(2, 30, 40, 1200)], breaks=[],
        geometry={"type": "LineString", "coordinates": []},
    )  # fmt: skip
    return PlanResult(
        routes=[route], unassigned=[UnassignedOrder(order_id="ord_x", reason="window", detail="")]
    )


def test_comparison_matches_hand_computed_figures(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """Current: the builder's route (3 stops, 300 s legs, 60 s service, no distance);
    proposed: 2 stops on the same vehicle. Totals, deltas and per-vehicle rows as by hand."""
    current = build_route(client, database, tenant, [(41.152, -8.615)] * 3)
    with database.unit_of_work() as session:
        plan = Plan(
            id=new_id("pln"), organization_id=tenant.organization_id,
            service_date=current.starts_at.date(), status=PlanStatus.succeeded, request={},
            created_by="test", progress=1.0,
            result=_proposal(current.vehicle_id, current.starts_at).model_dump(mode="json"),
        )  # fmt: skip
        session.add(plan)
    response = client.get(f"/v1/plans/{plan.id}/comparison", headers=tenant.headers("dispatcher"))
    assert response.status_code == 200, response.text
    body = response.json()
    # Current: driving 3 x 300 s + 300 s back = 1200 s; duration 3 x 360 + 300 = 1380 s.
    assert body["current"] == {
        "vehicles": 1, "stops": 3, "orders": 3, "distance_km": 0.0, "driving_h": 0.333,
        "duration_h": 0.383, "co2_kg": 0.0, "cost": 0.0, "tight_stops": 0, "unassigned": 0,
    }  # fmt: skip
    # Proposed: driving 10 + 15 + 80 min = 1.75 h; one stop with 300 s slack is tight.
    assert body["proposed"] == {
        "vehicles": 1, "stops": 2, "orders": 2, "distance_km": 12.5, "driving_h": 1.75,
        "duration_h": 2.0, "co2_kg": 2.5, "cost": 40.0, "tight_stops": 1, "unassigned": 1,
    }  # fmt: skip
    assert body["delta"]["distance_km"] == 12.5
    assert body["delta"]["driving_h"] == pytest.approx(1.417)
    assert body["delta"]["stops"] == -1
    [row] = body["routes"]
    assert row["vehicle_id"] == current.vehicle_id
    assert row["current"]["route_id"] == current.route_id
    assert row["delta"]["stops"] == -1
    assert row["delta"]["tight_stops"] == 1


def test_notify_sends_a_chat_message_from_dispatch(
    client: TestClient, tenant: Tenant, day: Day
) -> None:
    """The customer gets the text as a message from Dispatch in the order's conversation."""
    order = day.west.order_ids[0]
    response = client.post(
        f"/v1/dispatch/orders/{order}/notify", json={"message": "Running 20 minutes late."},
        headers=tenant.headers("dispatcher"),
    )  # fmt: skip
    assert response.status_code == 201, response.text
    conversation = client.get(f"/v1/orders/{order}/messages", headers=tenant.headers("admin"))
    [message] = conversation.json()["messages"]
    assert message["body"] == "Running 20 minutes late."
    assert message["sender"]["role"] == "dispatcher"


ENDPOINTS = [
    ("get", "/v1/dispatch/exceptions", None),
    ("post", "/v1/dispatch/exceptions/late:x/acknowledge", None),
    ("get", "/v1/dispatch/board", None),
    ("get", "/v1/dispatch/map", None),
    ("post", "/v1/routes/{route}/stops/{stop}/move:check", "move"),
    ("post", "/v1/routes/{route}/stops/{stop}/move", "move"),
    ("post", "/v1/routes/{route}/replan", None),
    ("post", "/v1/dispatch/orders/{order}/notify", {"message": "hello"}),
    ("get", "/v1/plans/pln_x/comparison", None),
]


@pytest.mark.parametrize("who", ["driver", "merchant"])
@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_drivers_and_merchants_cannot_use_dispatch(
    client: TestClient, tenant: Tenant, day: Day, who: str, method: str, path: str, body: Any
) -> None:
    """Every dispatch route answers 403 to drivers and merchants, even for real ids."""
    url = path.format(route=day.west.route_id, stop=day.west.stop_ids[0],
                      order=day.west.order_ids[0])  # fmt: skip
    payload = {"to_route_id": day.east.route_id} if body == "move" else body
    response = client.request(method, url, json=payload, headers=tenant.headers(who))
    assert response.status_code == 403, response.text


def test_other_tenants_ids_are_not_found(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, day: Day
) -> None:
    """Another organization's dispatcher gets 404 for our routes, stops, orders and plans."""
    rival = other_tenant.headers("dispatcher")
    stop = f"/v1/routes/{day.west.route_id}/stops/{day.west.stop_ids[0]}"
    calls = [
        (f"{stop}/move:check", {"to_route_id": day.east.route_id}),
        (f"/v1/routes/{day.west.route_id}/replan", None),
        (f"/v1/dispatch/orders/{day.west.order_ids[0]}/notify", {"message": "hi"}),
    ]
    for url, body in calls:
        assert client.post(url, json=body, headers=rival).status_code == 404, url
    plan = client.get(f"/v1/plans/{new_id('pln')}/comparison", headers=rival)
    assert plan.status_code == 404

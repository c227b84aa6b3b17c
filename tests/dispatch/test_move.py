"""Moving a stop between routes: feasibility, refusals, and a consistent result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from lastmile.db.engine import Database
from lastmile.fleet.models import Vehicle
from lastmile.orders.models import DeliveryWindow, Order
from lastmile.planning.models import Route, RouteStatus, RouteStop, StopStatus
from tests.dispatch.conftest import Day
from tests.factories import Tenant


def _route(client: TestClient, tenant: Tenant, route_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/routes/{route_id}", headers=tenant.headers("dispatcher"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _move(
    client: TestClient, tenant: Tenant, day: Day, index: int = 1, *, check: bool = False,
    **body: Any,
) -> Any:  # fmt: skip
    suffix = "move:check" if check else "move"
    url = f"/v1/routes/{day.west.route_id}/stops/{day.west.stop_ids[index]}/{suffix}"
    payload = {"to_route_id": day.east.route_id} | body
    return client.post(url, json=payload, headers=tenant.headers("dispatcher"))


def _windows(db: Database, order_ids: list[str]) -> dict[str, datetime]:
    with db.unit_of_work(readonly=True) as session:
        rows = session.execute(
            select(DeliveryWindow.order_id, DeliveryWindow.ends_at).where(
                DeliveryWindow.order_id.in_(order_ids)
            )
        )
        return {order_id: ends for order_id, ends in rows}


def test_move_puts_the_stop_on_the_target_consistently(
    client: TestClient, database: Database, tenant: Tenant, day: Day
) -> None:
    """After a move both routes number their stops 1..n, the orders name their new route,
    stop, vehicle and driver, history says so, and every target stop keeps its window."""
    order_id = day.west.order_ids[1]
    response = _move(client, tenant, day)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["check"]["feasible"] is True
    new_stop = body["stop"]["id"]
    west = _route(client, tenant, day.west.route_id)
    east = _route(client, tenant, day.east.route_id)
    assert [s["position"] for s in west["stops"]] == [1, 2]
    assert [s["position"] for s in east["stops"]] == [1, 2, 3, 4]
    assert day.west.stop_ids[1] not in {s["id"] for s in west["stops"]}
    assert [s["id"] for s in east["stops"]][body["check"]["position"] - 1] == new_stop
    assert west["distance_m"] == 0  # the builder's routes start at zero: never below
    assert east["distance_m"] == round(body["check"]["extra_km"] * 1000)
    order = client.get(f"/v1/orders/{order_id}", headers=tenant.headers("dispatcher")).json()
    assert (order["route_id"], order["stop_id"]) == (day.east.route_id, new_stop)
    assert order["vehicle_id"] == day.east.vehicle_id
    history = client.get(f"/v1/orders/{order_id}/history", headers=tenant.headers("dispatcher"))
    assert any(e["details"].get("action") == "move_stop" for e in history.json())
    # Property: planned service on the target never runs past a stop's promised end, and the
    # schedule moves forward in time.
    ends = _windows(database, [o for s in east["stops"] for o in s["order_ids"]])
    previous = None
    for stop in east["stops"]:
        arrival = datetime.fromisoformat(stop["planned_arrival"])
        departure = datetime.fromisoformat(stop["planned_departure"])
        assert all(arrival <= ends[o] for o in stop["order_ids"])
        assert departure >= arrival
        if previous is not None:
            assert arrival >= previous
        previous = departure


def test_move_at_a_given_position(client: TestClient, tenant: Tenant, day: Day) -> None:
    """With a position the stop lands exactly there."""
    response = _move(client, tenant, day, position=1)
    assert response.status_code == 200, response.text
    east = _route(client, tenant, day.east.route_id)
    assert east["stops"][0]["id"] == response.json()["stop"]["id"]
    assert east["stops"][0]["order_ids"] == [day.west.order_ids[1]]


def test_check_changes_nothing(client: TestClient, tenant: Tenant, day: Day) -> None:
    """move:check answers the feasibility and deltas and leaves both routes as they were."""
    before = (_route(client, tenant, day.west.route_id), _route(client, tenant, day.east.route_id))
    response = _move(client, tenant, day, check=True)
    assert response.status_code == 200, response.text
    check = response.json()
    assert check["feasible"] is True
    assert check["extra_km"] > 0
    assert check["saved_km"] > 0
    assert check["min_slack_minutes"] is not None
    after = (_route(client, tenant, day.west.route_id), _route(client, tenant, day.east.route_id))
    assert after == before


def _set(db: Database, model: Any, where: Any, **values: Any) -> None:
    with db.unit_of_work() as session:
        session.execute(update(model).where(where).values(**values))


@pytest.mark.parametrize(
    ("setup", "constraint"),
    [
        ("same_route", "state"),
        ("stop_arrived", "state"),
        ("target_completed", "state"),
        ("capacity", "capacity"),
        ("payload", "payload"),
        ("skills", "skills"),
        ("window", "window"),
        ("shift_end", "shift_end"),
        ("downstream", "downstream_windows"),
        ("driven_position", "position"),
    ],
)
def test_refusals_name_the_constraint(
    client: TestClient, database: Database, tenant: Tenant, day: Day, setup: str,
    constraint: str,
) -> None:  # fmt: skip
    """Every refusal: the check says which constraint, the move answers 409 and changes nothing."""
    body: dict[str, Any] = {}
    now = datetime.now(UTC)
    moved = day.west.order_ids[1]
    if setup == "same_route":
        body["to_route_id"] = day.west.route_id
    elif setup == "stop_arrived":
        _set(database, RouteStop, RouteStop.id == day.west.stop_ids[1], status=StopStatus.arrived)
    elif setup == "target_completed":
        _set(database, Route, Route.id == day.east.route_id, status=RouteStatus.completed)
    elif setup == "capacity":
        _set(database, Vehicle, Vehicle.id == day.east.vehicle_id, capacity_parcels=3)
    elif setup == "payload":
        _set(database, Vehicle, Vehicle.id == day.east.vehicle_id, max_payload_kg=0.5)
    elif setup == "skills":
        _set(database, Order, Order.id == moved, age_check=True)
    elif setup == "window":
        _set(database, DeliveryWindow, DeliveryWindow.order_id == moved,
             starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1))  # fmt: skip
    elif setup == "shift_end":
        _set(database, RouteStop, RouteStop.route_id == day.east.route_id, slack_s=0)
    elif setup == "downstream":
        _set(database, RouteStop, RouteStop.id.in_(day.east.stop_ids[:2]), slack_s=0)
        body["position"] = 1
    elif setup == "driven_position":
        _set(database, RouteStop, RouteStop.id == day.east.stop_ids[1],
             status=StopStatus.departed)  # fmt: skip
        body["position"] = 1
    before = _route(client, tenant, day.west.route_id)
    check = _move(client, tenant, day, check=True, **body)
    assert check.status_code == 200, check.text
    assert check.json()["feasible"] is False
    assert check.json()["constraint"] == constraint, check.json()
    refused = _move(client, tenant, day, **body)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert _route(client, tenant, day.west.route_id) == before


def test_other_tenants_routes_are_not_found(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, day: Day
) -> None:
    """Another organization's dispatcher gets 404 for the route, and for a target of ours."""
    url = f"/v1/routes/{day.west.route_id}/stops/{day.west.stop_ids[0]}/move"
    response = client.post(
        url, json={"to_route_id": day.east.route_id}, headers=other_tenant.headers("dispatcher")
    )
    assert response.status_code == 404
    response = client.post(
        url, json={"to_route_id": "rte_unknown"}, headers=tenant.headers("dispatcher")
    )
    assert response.status_code == 404

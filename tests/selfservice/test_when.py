"""Changing when: another window the same day, another day, and what the route does then."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lastmile.db.engine import Database
from lastmile.live.channels import fleet_channel, order_channel
from lastmile.notifications.models import OutboxEvent
from lastmile.orders.models import Order
from tests.factories import Tenant
from tests.helpers import assert_problem, snapshot
from tests.selfservice.support import (
    add_van,
    at,
    day,
    issue,
    new_order,
    recorded_events,
    roomy_route,
    slot,
    stops_of,
)

POINTS = [(41.1440, -8.6150), (41.1468, -8.6108), (41.1496, -8.6067)]


@pytest.fixture
def van(client: TestClient, tenant: Tenant) -> str:
    return add_van(client, tenant)


def order_row(db: Database, order_id: str) -> Order:
    with db.unit_of_work(readonly=True) as session:
        order = session.get(Order, order_id)
        assert order is not None
        _ = order.windows
        return order


def history(client: TestClient, tenant: Tenant, order_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/orders/{order_id}/history", headers=tenant.headers("dispatcher"))
    return list(response.json())


def test_the_view_offers_the_days_windows_and_other_days(
    client: TestClient, tenant: Tenant, van: str
) -> None:
    """Windows of the delivery day and of other days are feasible slots, the day's apart."""
    order_id = new_order(client, tenant)
    view = client.get(f"/v1/self-service/{issue(client, tenant, order_id)['token']}")
    assert view.status_code == 200, view.text
    assert view.headers["cache-control"] == "no-store"
    body = view.json()
    assert body["order_id"] == order_id
    assert {w["date"] for w in body["windows"]} == {day().isoformat()}
    assert slot(tenant, day(), 14) in {w["slot_id"] for w in body["windows"]}
    assert body["days"], "other days are offered"
    assert all(d["date"] != day().isoformat() for d in body["days"])
    assert day(4).isoformat() in {d["date"] for d in body["days"]}


def test_window_change_books_the_slot_records_and_announces(
    client: TestClient, database: Database, tenant: Tenant, van: str
) -> None:
    """A pool order takes the new window: history, notification and live events follow."""
    order_id = new_order(client, tenant)
    token = issue(client, tenant, order_id)["token"]
    with recorded_events(client) as published:
        response = client.post(
            f"/v1/self-service/{token}/window", json={"slot_id": slot(tenant, day(), 14)}
        )
    assert response.status_code == 200, response.text
    assert response.json()["current"]["window"]["starts_at"].startswith(
        at(day(), 14).strftime("%Y-%m-%dT%H:%M")
    )
    order = order_row(database, order_id)
    assert [(w.starts_at, w.ends_at) for w in order.windows] == [(at(day(), 14), at(day(), 16))]
    changes = [e for e in history(client, tenant, order_id) if e["details"].get("via")]
    assert changes[-1]["details"] == {
        "event": "changed", "fields": ["windows"], "via": "self-service", "action": "window",
    }  # fmt: skip
    assert changes[-1]["actor"].startswith("system:customer:trk_")
    with database.unit_of_work(readonly=True) as session:
        events = session.scalars(select(OutboxEvent.event).where(OutboxEvent.order_id == order_id))
        assert "slot_booked" in set(events)
    kinds = {(channel, event.kind) for channel, event in published}
    assert (order_channel(order_id), "order_changed") in kinds
    assert (fleet_channel(tenant.organization_id), "order_changed") in kinds


def test_window_change_moves_the_stop_on_a_dispatched_route(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """On a route not started the order gets a new stop in its new window; the old one goes,
    positions stay contiguous and the dispatcher's event names the route."""
    route = roomy_route(client, database, tenant, POINTS)
    order_id = route.order_ids[1]
    token = issue(client, tenant, order_id)["token"]
    with recorded_events(client) as published:
        response = client.post(
            f"/v1/self-service/{token}/window", json={"slot_id": slot(tenant, day(), 16)}
        )
    assert response.status_code == 200, response.text
    order = order_row(database, order_id)
    assert order.status.value == "dispatched"
    stops = stops_of(database, route.route_id)
    assert [s.position for s in stops] == [1, 2, 3]
    assert route.stop_ids[1] not in {s.id for s in stops}
    moved = next(s for s in stops if s.order_ids == [order_id])
    assert order.stop_id == moved.id
    assert at(day(), 16) <= moved.planned_arrival <= at(day(), 18)
    assert moved.position == 3  # after the morning stops
    fleet = [e for c, e in published if c == fleet_channel(tenant.organization_id)]
    assert fleet[-1].kind == "order_changed"
    assert fleet[-1].data["routes_changed"] == [route.route_id]
    assert fleet[-1].data["stop_id"] == moved.id


def test_window_without_room_on_the_route_is_refused_and_changes_nothing(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """When no route can take the order in the new window, 409 and every row is as before."""
    route = roomy_route(client, database, tenant, POINTS, slack_s=0, shift_end=10)
    token = issue(client, tenant, route.order_ids[0])["token"]
    # No stop may be pushed and the shift ends at 10:00: a 14:00 visit cannot be inserted.
    before = snapshot(database)
    response = client.post(
        f"/v1/self-service/{token}/window", json={"slot_id": slot(tenant, day(), 14)}
    )
    body = assert_problem(response, 409)
    assert body["detail"]
    assert snapshot(database) == before


def test_full_slot_is_refused_after_the_stop_moved_and_nothing_stays_changed(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """The route edit and the booking are one change: a full slot undoes the moved stop."""
    route = roomy_route(client, database, tenant, POINTS)
    policy = client.get("/v1/slot-policy", headers=tenant.headers("admin")).json()
    full = client.put(
        "/v1/slot-policy", json=policy | {"capacity_per_window": 1},
        headers=tenant.headers("admin"),
    )  # fmt: skip
    assert full.status_code == 200, full.text
    other = new_order(client, tenant)
    taken = client.post(
        f"/v1/orders/{other}/slot", json={"slot_id": slot(tenant, day(), 16)},
        headers=tenant.headers("merchant"),
    )  # fmt: skip
    assert taken.status_code == 200, taken.text
    token = issue(client, tenant, route.order_ids[1])["token"]
    before = snapshot(database)
    response = client.post(
        f"/v1/self-service/{token}/window", json={"slot_id": slot(tenant, day(), 16)}
    )
    assert_problem(response, 409)
    assert snapshot(database) == before


def test_window_of_another_day_is_a_reschedule(
    client: TestClient, database: Database, tenant: Tenant, van: str
) -> None:
    """The window action refuses another day's slot (422); reschedule takes it."""
    order_id = new_order(client, tenant)
    token = issue(client, tenant, order_id)["token"]
    other_day = {"slot_id": slot(tenant, day(4), 10)}
    before = snapshot(database)
    assert_problem(client.post(f"/v1/self-service/{token}/window", json=other_day), 422, "slot_id")
    assert snapshot(database) == before
    moved = client.post(f"/v1/self-service/{token}/reschedule", json=other_day)
    assert moved.status_code == 200, moved.text
    order = order_row(database, order_id)
    assert order.service_date == day(4)
    assert [(w.starts_at, w.ends_at) for w in order.windows] == [(at(day(4), 10), at(day(4), 12))]
    assert moved.json()["current"]["service_date"] == day(4).isoformat()


def test_reschedule_takes_a_dispatched_order_off_its_route(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """Before the route starts, another day sends the order back to the pool: its stop goes,
    the other stops close up, and its history shows dispatched -> planned -> created."""
    route = roomy_route(client, database, tenant, POINTS)
    order_id = route.order_ids[0]
    token = issue(client, tenant, order_id)["token"]
    response = client.post(
        f"/v1/self-service/{token}/reschedule", json={"slot_id": slot(tenant, day(4), 12)}
    )
    assert response.status_code == 200, response.text
    order = order_row(database, order_id)
    assert (order.status.value, order.route_id, order.stop_id, order.driver_id) == (
        "created", None, None, None,
    )  # fmt: skip
    assert order.service_date == day(4)
    stops = stops_of(database, route.route_id)
    assert [(s.position, s.order_ids) for s in stops] == [
        (1, [route.order_ids[1]]), (2, [route.order_ids[2]]),
    ]  # fmt: skip
    moves = [
        (e["from_status"], e["to_status"])
        for e in history(client, tenant, order_id)
        if e["from_status"] not in (None, e["to_status"])
    ]
    assert moves[-2:] == [("dispatched", "planned"), ("planned", "created")]


def test_reschedule_after_a_failed_attempt(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """A failed order may only choose another day or a locker; rescheduling moves it on."""
    route = roomy_route(client, database, tenant, POINTS)
    order_id = route.order_ids[2]
    for status in ("out_for_delivery", "failed"):
        moved = client.post(
            f"/v1/orders/{order_id}/transitions", json={"status": status},
            headers=tenant.headers("dispatcher"),
        )  # fmt: skip
        assert moved.status_code == 200, moved.text
    token = issue(client, tenant, order_id)["token"]
    view = client.get(f"/v1/self-service/{token}").json()
    assert view["actions"]["reschedule"]["allowed"] is True
    assert view["actions"]["instructions"]["allowed"] is False
    response = client.post(
        f"/v1/self-service/{token}/reschedule", json={"slot_id": slot(tenant, day(3), 10)}
    )
    assert response.status_code == 200, response.text
    order = order_row(database, order_id)
    assert (order.status.value, order.route_id, order.service_date) == ("rescheduled", None, day(3))

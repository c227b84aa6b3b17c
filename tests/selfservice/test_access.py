"""The token as credential, and the cut-off once the driver is on the way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from lastmile.db.engine import Database
from lastmile.orders.models import Order
from lastmile.planning.models import Route, RouteStatus, RouteStop
from lastmile.tracking.models import TrackingLink
from tests.factories import Tenant
from tests.helpers import assert_problem, snapshot
from tests.selfservice.support import add_van, day, issue, new_order, roomy_route, slot

POINTS = [(41.1440, -8.6150), (41.1468, -8.6108), (41.1496, -8.6067)]
ACTIONS = ["window", "reschedule", "redirect", "safe-place", "instructions", "delivery-options"]


def bodies(tenant: Tenant) -> dict[str, dict[str, Any]]:
    """A valid body for each action."""
    return {
        "window": {"slot_id": slot(tenant, day(), 14)},
        "reschedule": {"slot_id": slot(tenant, day(4), 10)},
        "redirect": {"pickup_point_id": tenant.locker_id},
        "safe-place": {"safe_place": "porch"},
        "instructions": {"instructions": "Ring twice"},
        "delivery-options": {"signature_required": True},
    }


def every_route(client: TestClient, tenant: Tenant, token: str, **params: str) -> list[Any]:
    """The view and every action, called with ``token``."""
    calls = [client.get(f"/v1/self-service/{token}", params=params)]
    for action, body in bodies(tenant).items():
        calls.append(client.post(f"/v1/self-service/{token}/{action}", json=body, params=params))
    return calls


def test_unknown_revoked_and_expired_tokens(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """Unknown tokens are 404; withdrawn and expired links 410, on every route, changing
    nothing."""
    add_van(client, tenant)
    order_id = new_order(client, tenant)
    revoked, expired = issue(client, tenant, order_id), issue(client, tenant, order_id)
    gone = client.delete(f"/v1/tracking-links/{revoked['id']}", headers=tenant.headers("merchant"))
    assert gone.status_code == 200, gone.text
    with database.unit_of_work() as session:
        session.execute(
            update(TrackingLink)
            .where(TrackingLink.id == expired["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    before = snapshot(database)
    for response in every_route(client, tenant, "x" * 32):
        assert_problem(response, 404)
    for link in (revoked, expired):
        for response in every_route(client, tenant, link["token"]):
            assert_problem(response, 410)
    assert snapshot(database) == before


def test_another_orders_token_is_not_found(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """A page naming order A with order B's token gets 404, as if the link did not exist."""
    add_van(client, tenant)
    mine, theirs = new_order(client, tenant), new_order(client, tenant)
    token = issue(client, tenant, theirs)["token"]
    before = snapshot(database)
    unknown = assert_problem(client.get(f"/v1/self-service/{'x' * 32}"), 404)
    for response in every_route(client, tenant, token, order_id=mine):
        assert assert_problem(response, 404)["detail"] == unknown["detail"]
    assert snapshot(database) == before
    own = client.get(f"/v1/self-service/{token}", params={"order_id": theirs})
    assert own.status_code == 200, own.text


@pytest.fixture
def route_under_way(client: TestClient, database: Database, tenant: Tenant) -> list[str]:
    """A route in progress, its orders out for delivery; the first stop is next."""
    route = roomy_route(client, database, tenant, POINTS)
    with database.unit_of_work() as session:
        session.execute(
            update(Route).where(Route.id == route.route_id).values(status=RouteStatus.in_progress)
        )
    for order_id in route.order_ids:
        moved = client.post(
            f"/v1/orders/{order_id}/transitions", json={"status": "out_for_delivery"},
            headers=tenant.headers("dispatcher"),
        )  # fmt: skip
        assert moved.status_code == 200, moved.text
    return route.order_ids


def test_past_the_cut_off_only_notes_for_the_driver_change(
    client: TestClient, database: Database, tenant: Tenant, route_under_way: list[str]
) -> None:
    """With the driver heading to this stop, when/where/how changes answer 409 with the
    reason (and the view says so); safe place and instructions still go through."""
    token = issue(client, tenant, route_under_way[0])["token"]
    view = client.get(f"/v1/self-service/{token}").json()
    for action in ("window", "reschedule", "redirect", "delivery_options"):
        assert view["actions"][action]["allowed"] is False
        assert "on the way" in view["actions"][action]["reason"]
    assert (view["windows"], view["days"]) == ([], [])
    before = snapshot(database)
    for action in ("window", "reschedule", "redirect", "delivery-options"):
        response = client.post(f"/v1/self-service/{token}/{action}", json=bodies(tenant)[action])
        body = assert_problem(response, 409)
        assert body["type"].endswith(":cut-off")
        assert "on the way" in body["detail"]
    assert snapshot(database) == before
    for action in ("safe-place", "instructions"):
        response = client.post(f"/v1/self-service/{token}/{action}", json=bodies(tenant)[action])
        assert response.status_code == 200, response.text


def test_later_stops_may_change_time_or_go_to_a_locker_but_not_change_day(
    client: TestClient, database: Database, tenant: Tenant, route_under_way: list[str]
) -> None:
    """A parcel already in the van keeps its day, yet may still be redirected or take another
    time today (its stop moves within the running route) while the driver is not yet heading
    to it."""
    token = issue(client, tenant, route_under_way[2])["token"]
    moved = client.post(f"/v1/self-service/{token}/redirect", json=bodies(tenant)["redirect"])
    assert moved.status_code == 200, moved.text
    with database.unit_of_work(readonly=True) as session:
        order = session.get(Order, route_under_way[2])
        assert order is not None
        assert order.pickup_point_id == tenant.locker_id
        assert order.status.value == "out_for_delivery"

    other = issue(client, tenant, route_under_way[1])["token"]
    refused = client.post(f"/v1/self-service/{other}/reschedule", json=bodies(tenant)["reschedule"])
    assert "out for delivery" in assert_problem(refused, 409)["detail"]
    later = client.post(f"/v1/self-service/{other}/window", json=bodies(tenant)["window"])
    assert later.status_code == 200, later.text
    with database.unit_of_work(readonly=True) as session:
        order = session.get_one(Order, route_under_way[1])
        stop = session.get_one(RouteStop, order.stop_id)
        window = order.windows[0]
        assert window.starts_at <= stop.planned_arrival <= window.ends_at
        assert stop.route_id == order.route_id
        assert order.status.value == "out_for_delivery"


def test_after_delivery_nothing_changes(
    client: TestClient, database: Database, tenant: Tenant, route_under_way: list[str]
) -> None:
    """A delivered parcel refuses every change, instructions included."""
    order_id = route_under_way[0]
    done = client.post(
        f"/v1/orders/{order_id}/transitions", json={"status": "delivered"},
        headers=tenant.headers("dispatcher"),
    )  # fmt: skip
    assert done.status_code == 200, done.text
    token = issue(client, tenant, order_id)["token"]
    view = client.get(f"/v1/self-service/{token}").json()
    assert not any(state["allowed"] for state in view["actions"].values())
    before = snapshot(database)
    for action in ACTIONS:
        response = client.post(f"/v1/self-service/{token}/{action}", json=bodies(tenant)[action])
        assert "delivered" in assert_problem(response, 409)["detail"]
    assert snapshot(database) == before

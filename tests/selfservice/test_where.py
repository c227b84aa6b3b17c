"""Changing where: lockers and pick-up points near the address, with room, open at the time."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from lastmile.db.engine import Database
from lastmile.fleet.models import PickupPoint, PickupPointKind
from lastmile.kit.errors import Conflict
from lastmile.kit.ids import new_id
from lastmile.orders.models import Order
from lastmile.selfservice.changes import DeliveryChanges
from lastmile.selfservice.service import customer_principal
from lastmile.services import Services
from lastmile.tracking.links import resolve_link
from tests.factories import Tenant
from tests.helpers import assert_problem, snapshot
from tests.selfservice.support import (
    HOME,
    add_van,
    at,
    day,
    issue,
    new_order,
    roomy_route,
    stops_of,
)

POINTS = [(41.1440, -8.6150), (41.1468, -8.6108), HOME]


@pytest.fixture
def van(client: TestClient, tenant: Tenant) -> str:
    return add_van(client, tenant)


def add_point(db: Database, tenant: Tenant, lat: float, lon: float, **fields: Any) -> str:
    values: dict[str, Any] = {
        "name": "Bolhao lockers", "kind": PickupPointKind.locker, "compartments": 10,
        "opening_hours": [],
    } | fields  # fmt: skip
    with db.unit_of_work() as session:
        point = PickupPoint(
            id=new_id("pup"), organization_id=tenant.organization_id, lat=lat, lon=lon, **values
        )
        session.add(point)
    return point.id


def redirect(client: TestClient, token: str, point_id: str | None) -> Any:
    return client.post(f"/v1/self-service/{token}/redirect", json={"pickup_point_id": point_id})


def test_points_near_the_address_nearest_first_with_their_room(
    client: TestClient, database: Database, tenant: Tenant, van: str
) -> None:
    """Only points within the radius are offered, nearest first, each with its free
    compartments that day and whether it is open then."""
    near = add_point(database, tenant, HOME[0] + 0.001, HOME[1], name="Near", compartments=3)
    add_point(database, tenant, HOME[0] + 0.2, HOME[1], name="Far away")  # ~22 km
    inactive = add_point(database, tenant, HOME[0], HOME[1] + 0.001, name="Shut", active=False)
    order_id = new_order(client, tenant)
    new_order(client, tenant, delivery_method="locker", pickup_point_id=near)
    view = client.get(f"/v1/self-service/{issue(client, tenant, order_id)['token']}").json()
    points = view["pickup_points"]
    assert [p["id"] for p in points] == [near, tenant.locker_id]
    assert points[0]["distance_m"] < points[1]["distance_m"]
    assert points[0]["free_compartments"] == 2
    assert all(p["open"] and p["available"] for p in points)
    assert inactive not in {p["id"] for p in points}


def test_redirect_to_a_locker_and_back_home(
    client: TestClient, database: Database, tenant: Tenant, van: str
) -> None:
    """A pool order goes to the locker (method and point change), then back to the door."""
    order_id = new_order(client, tenant)
    token = issue(client, tenant, order_id)["token"]
    response = redirect(client, token, tenant.locker_id)
    assert response.status_code == 200, response.text
    current = response.json()["current"]
    assert (current["delivery_method"], current["pickup_point_id"]) == ("locker", tenant.locker_id)
    assert next(p for p in response.json()["pickup_points"] if p["current"])["id"] == (
        tenant.locker_id
    )
    home = redirect(client, token, None)
    assert home.status_code == 200, home.text
    current = home.json()["current"]
    assert (current["delivery_method"], current["pickup_point_id"]) == ("doorstep", None)


def test_full_locker_is_refused_and_nothing_changes(
    client: TestClient, database: Database, tenant: Tenant, van: str
) -> None:
    """A locker whose compartments that day are all taken answers 409."""
    point = add_point(database, tenant, HOME[0] + 0.001, HOME[1], compartments=1)
    new_order(client, tenant, delivery_method="locker", pickup_point_id=point)
    token = issue(client, tenant, new_order(client, tenant))["token"]
    view = client.get(f"/v1/self-service/{token}").json()
    offered = next(p for p in view["pickup_points"] if p["id"] == point)
    assert (offered["available"], offered["free_compartments"]) == (False, 0)
    assert "full" in offered["reason"]
    before = snapshot(database)
    assert "full" in assert_problem(redirect(client, token, point), 409)["detail"]
    assert snapshot(database) == before


def test_closed_locker_is_refused_and_nothing_changes(
    client: TestClient, database: Database, tenant: Tenant, van: str
) -> None:
    """A pick-up point closed throughout the delivery window answers 409."""
    weekday = day().weekday()
    hours = [{"weekday": weekday, "opens": "14:00:00", "closes": "18:00:00"}]
    point = add_point(
        database, tenant, HOME[0] + 0.001, HOME[1], kind=PickupPointKind.pickup_point,
        opening_hours=hours,
    )  # fmt: skip
    token = issue(client, tenant, new_order(client, tenant))["token"]  # 10:00-12:00
    offered = next(
        p for p in client.get(f"/v1/self-service/{token}").json()["pickup_points"]
        if p["id"] == point
    )  # fmt: skip
    assert (offered["open"], offered["available"]) == (False, False)
    before = snapshot(database)
    assert "closed" in assert_problem(redirect(client, token, point), 409)["detail"]
    assert snapshot(database) == before


def test_unknown_or_distant_point_is_422(
    client: TestClient, database: Database, tenant: Tenant, van: str
) -> None:
    """Only points offered nearby can be chosen: others blame pickup_point_id."""
    far = add_point(database, tenant, HOME[0] + 0.2, HOME[1], name="Far away")
    token = issue(client, tenant, new_order(client, tenant))["token"]
    before = snapshot(database)
    for point_id in (far, "pup_nope"):
        assert_problem(redirect(client, token, point_id), 422, "pickup_point_id")
    assert snapshot(database) == before


def test_redirect_on_a_route_puts_a_locker_stop_in_the_route(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """On a dispatched route the order leaves its address stop for a stop at the locker."""
    route = roomy_route(client, database, tenant, POINTS)
    order_id = route.order_ids[2]
    token = issue(client, tenant, order_id)["token"]
    response = redirect(client, token, tenant.locker_id)
    assert response.status_code == 200, response.text
    stops = stops_of(database, route.route_id)
    assert [s.position for s in stops] == [1, 2, 3]
    locker = next(s for s in stops if order_id in s.order_ids)
    assert (locker.lat, locker.lon) == (41.16, -8.62)  # make_tenant's locker
    assert route.stop_ids[2] not in {s.id for s in stops}


def test_locker_closed_when_the_van_gets_there_undoes_the_route_edit(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """The new stop is checked against the opening hours at its planned time; refused, the
    route is left exactly as it was."""
    route = roomy_route(client, database, tenant, POINTS)
    # Open only late in the evening: the order's window (08:00-12:00 via the route builder)
    # overlaps nothing, and the van would come in the morning.
    hours = [{"weekday": day().weekday(), "opens": "21:00:00", "closes": "23:00:00"}]
    point = add_point(database, tenant, HOME[0] + 0.001, HOME[1], opening_hours=hours)
    token = issue(client, tenant, route.order_ids[1])["token"]
    before = snapshot(database)
    assert_problem(redirect(client, token, point), 409)
    assert snapshot(database) == before


def test_two_customers_racing_for_the_last_compartment(
    client: TestClient, database: Database, tenant: Tenant, van: str
) -> None:
    """While one redirect to a one-compartment locker is not yet committed, another waits for
    it and is then refused: exactly one order ends up in the locker."""
    point = add_point(database, tenant, HOME[0] + 0.001, HOME[1], compartments=1)
    tokens = [issue(client, tenant, new_order(client, tenant))["token"] for _ in range(2)]
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    first_holds, second_started = threading.Event(), threading.Event()
    outcome: dict[str, str] = {}

    def customer(token: str, name: str, hold: bool) -> None:
        try:
            with database.unit_of_work() as session:
                link = resolve_link(session, token)
                DeliveryChanges(session, customer_principal(link), services).redirect(
                    link.order, point
                )
                if hold:
                    first_holds.set()
                    # Keep the transaction open while the other customer tries: with the lock
                    # it waits for this commit, without it it would be done within the second.
                    assert second_started.wait(10)
                    second.join(timeout=1)
            outcome[name] = "won"
        except Conflict:
            outcome[name] = "refused"

    first = threading.Thread(target=customer, args=(tokens[0], "first", True))
    second = threading.Thread(target=customer, args=(tokens[1], "second", False))
    first.start()
    assert first_holds.wait(10)
    second.start()
    second_started.set()
    first.join(15)
    second.join(15)
    assert outcome == {"first": "won", "second": "refused"}
    with database.unit_of_work(readonly=True) as session:
        taken = session.scalar(
            select(func.count()).select_from(Order).where(Order.pickup_point_id == point)
        )
    assert taken == 1


def test_staff_changes_meet_the_same_locker_rule(
    client: TestClient, database: Database, tenant: Tenant, van: str
) -> None:
    """A dispatcher's PATCH to a full locker is refused like a customer's redirect."""
    point = add_point(database, tenant, HOME[0] + 0.001, HOME[1], compartments=1)
    new_order(client, tenant, delivery_method="locker", pickup_point_id=point)
    order_id = new_order(client, tenant)
    before = snapshot(database)
    patch = client.patch(
        f"/v1/orders/{order_id}", json={"delivery_method": "locker", "pickup_point_id": point},
        headers=tenant.headers("dispatcher"),
    )  # fmt: skip
    assert "full" in assert_problem(patch, 409)["detail"]
    assert snapshot(database) == before
    with database.unit_of_work() as session:
        session.execute(update(PickupPoint).where(PickupPoint.id == point).values(compartments=2))
    patched = client.patch(
        f"/v1/orders/{order_id}", json={"delivery_method": "locker", "pickup_point_id": point},
        headers=tenant.headers("dispatcher"),
    )  # fmt: skip
    assert patched.status_code == 200, patched.text


def test_redirect_after_a_failed_attempt_books_the_next_day(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """After a failure the parcel goes to the locker on the first day it can: rescheduled."""
    route = roomy_route(client, database, tenant, POINTS)
    order_id = route.order_ids[0]
    for status in ("out_for_delivery", "failed"):
        moved = client.post(
            f"/v1/orders/{order_id}/transitions", json={"status": status},
            headers=tenant.headers("dispatcher"),
        )  # fmt: skip
        assert moved.status_code == 200, moved.text
    token = issue(client, tenant, order_id)["token"]
    response = redirect(client, token, tenant.locker_id)
    assert response.status_code == 200, response.text
    with database.unit_of_work(readonly=True) as session:
        order = session.get(Order, order_id)
        assert order is not None
        assert (order.status.value, order.pickup_point_id, order.route_id) == (
            "rescheduled", tenant.locker_id, None,
        )  # fmt: skip
        assert order.service_date > day(0)
        assert order.windows[0].starts_at >= at(day(1), 0)

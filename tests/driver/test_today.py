"""The driver's day: their routes only, stops in order with everything needed at the door,
the customer's first name only, navigation links, and an empty day for a driver without one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import update

from lastmile.customers.models import Address, Customer
from lastmile.db.engine import Database
from lastmile.orders.models import Order
from tests.driver.conftest import OtherDriver
from tests.factories import Tenant
from tests.helpers import assert_problem, set_order
from tests.tracking.builders import BuiltRoute


def day_of(route: BuiltRoute) -> str:
    return route.starts_at.date().isoformat()


def test_the_day_lists_the_route_with_its_stops_in_order(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """Route, vehicle, depot, load-out and each stop's orders with their delivery details."""
    first = route.order_ids[0]
    set_order(database, first, instructions="Ring twice", signature_required=True,
              age_check=True, safe_place="porch", safe_place_note="behind the pot")  # fmt: skip
    with database.unit_of_work() as s:
        order = s.get(Order, first)
        assert order is not None
        s.execute(update(Customer).where(Customer.id == order.customer_id)
                  .values(name="Ana Maria Silva", language="pt"))  # fmt: skip
        s.execute(update(Address).where(Address.id == order.address_id)
                  .values(access_notes="Gate code 1234"))  # fmt: skip
    response = client.get(f"/v1/driver/today?date={day_of(route)}",
                          headers=tenant.headers("driver"))  # fmt: skip
    assert response.status_code == 200, response.text
    day = response.json()
    assert day["date"] == day_of(route)
    assert day["timezone"] == "Europe/Lisbon"
    assert day["policy"]["photo_required_for_methods"] == ["safe_place"]
    assert day["policy"]["photo_required_for_reasons"] == ["damaged", "no_access",
                                                           "wrong_address"]  # fmt: skip
    (only,) = day["routes"]
    assert only["id"] == route.route_id
    assert only["status"] == "dispatched"
    assert only["vehicle"]["id"] == route.vehicle_id
    assert only["vehicle"]["type"] == "van"
    assert only["depot"]["id"] == tenant.depot_id
    assert [s["id"] for s in only["stops"]] == route.stop_ids
    assert [s["position"] for s in only["stops"]] == [1, 2, 3]
    assert only["loadout"]["expected"] == 3
    assert only["loadout"]["scanned"] == 0
    assert len(only["loadout"]["missing"]) == 3
    stop = only["stops"][0]
    assert stop["status"] == "pending"
    assert stop["planned_arrival"] < stop["planned_departure"]
    (order,) = stop["orders"]
    assert order["id"] == first
    assert order["customer_first_name"] == "Ana"
    assert "Silva" not in str(order)
    assert order["customer_language"] == "pt"
    assert order["address"]["access_notes"] == "Gate code 1234"
    assert order["address"]["text"].startswith("Rua de Santa Catarina 100")
    assert order["instructions"] == "Ring twice"
    assert order["safe_place"] == "porch"
    assert order["safe_place_note"] == "behind the pot"
    assert order["signature_required"]
    assert order["age_check"]
    assert order["requires"] == {"recipient_name": True, "photo": False, "signature": True,
                                 "age_check": True}  # fmt: skip
    assert order["proof_status"] == "none"
    assert order["parcels"][0]["barcode"] == only["loadout"]["missing"][0]
    # The customer's contact details (tests.factories) never reach the driver's phone.
    assert "+351912345678" not in response.text
    assert "ana@example.org" not in response.text


def test_navigation_links_point_at_the_stop(
    client: TestClient, tenant: Tenant, route: BuiltRoute
) -> None:
    """A geo: URI with the stop's label, and the maps URL from the template setting."""
    day = client.get(f"/v1/driver/today?date={day_of(route)}", headers=tenant.headers("driver"))
    stop = day.json()["routes"][0]["stops"][0]
    point = "41.177000,-8.610000"
    assert stop["label"] == "Rua de Santa Catarina 100, Porto"
    assert stop["navigation"]["geo"] == f"geo:{point}?q={point}({quote(stop['label'], safe='')})"
    assert stop["navigation"]["maps_url"] == (
        f"https://www.google.com/maps/dir/?api=1&destination={point}"
    )


def test_a_locker_order_shows_its_pickup_point(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """Locker orders carry the locker, need no recipient name, and the stop is named after it."""
    set_order(database, route.order_ids[1], delivery_method="locker",
              pickup_point_id=tenant.locker_id)  # fmt: skip
    day = client.get(f"/v1/driver/today?date={day_of(route)}", headers=tenant.headers("driver"))
    stop = day.json()["routes"][0]["stops"][1]
    order = stop["orders"][0]
    assert order["pickup_point"]["id"] == tenant.locker_id
    assert order["pickup_point"]["kind"] == "locker"
    assert order["requires"]["recipient_name"] is False
    assert stop["label"] == "Locker 1"


def test_a_driver_without_a_route_gets_an_empty_day(
    client: TestClient, tenant: Tenant, route: BuiltRoute, other_driver: OtherDriver
) -> None:
    """No route is not an error; another driver's route is never listed."""
    response = client.get(f"/v1/driver/today?date={day_of(route)}", headers=other_driver.headers)
    assert response.status_code == 200, response.text
    assert response.json()["routes"] == []
    other_day = (route.starts_at + timedelta(days=3)).date().isoformat()
    empty = client.get(f"/v1/driver/today?date={other_day}", headers=tenant.headers("driver"))
    assert empty.json()["routes"] == []


def test_the_default_day_is_today(client: TestClient, tenant: Tenant, route: BuiltRoute) -> None:
    """Without a date the organization's today is shown (the route starts now)."""
    response = client.get("/v1/driver/today", headers=tenant.headers("driver"))
    assert response.status_code == 200, response.text
    today = datetime.now(UTC).date()
    assert response.json()["date"] in {today.isoformat(), (today + timedelta(days=1)).isoformat()}


def test_staff_read_a_named_drivers_day_and_drivers_only_their_own(
    client: TestClient, tenant: Tenant, route: BuiltRoute, other_driver: OtherDriver
) -> None:
    """Staff name the driver (422 without); a driver naming another is 403; merchants 403."""
    url = f"/v1/driver/today?date={day_of(route)}"
    staff = client.get(f"{url}&driver_id={tenant.driver_id}", headers=tenant.headers("dispatcher"))
    assert [r["id"] for r in staff.json()["routes"]] == [route.route_id]
    assert_problem(client.get(url, headers=tenant.headers("admin")), 422, "query.driver_id")
    assert_problem(client.get(f"{url}&driver_id={tenant.driver_id}",
                              headers=other_driver.headers), 403)  # fmt: skip
    assert_problem(client.get(url, headers=tenant.headers("merchant")), 403)


def test_other_tenants_see_nothing_of_the_day(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, route: BuiltRoute
) -> None:
    """A dispatcher of another organization naming this driver gets an empty day."""
    url = f"/v1/driver/today?date={day_of(route)}&driver_id={tenant.driver_id}"
    assert client.get(url, headers=other_tenant.headers("dispatcher")).json()["routes"] == []

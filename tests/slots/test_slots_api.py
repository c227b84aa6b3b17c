"""Slots over HTTP: quotes, capacity, cut-offs, the committed plan, green windows, isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from lastmile.db.engine import Database
from lastmile.notifications.models import OutboxEvent
from lastmile.orders.status import OrderStatus
from lastmile.planning.models import RouteStop
from lastmile.slots.models import SlotBooking, SlotCounter
from tests.factories import Tenant, order_payload, vehicle_payload
from tests.helpers import set_order
from tests.tracking.builders import BuiltRoute, committed_route

LISBON = ZoneInfo("Europe/Lisbon")
HERE = {"lat": 41.1496, "lon": -8.6067}
SMALL = {"count": 1, "weight_kg": 2.0, "volume_litres": 6.0}
# Stops every ~550 m north of the depot at (41.15, -8.61), off the depot's meridian.
STOPS = [(41.15 + 0.005 * k, -8.60) for k in range(1, 6)]


def quote(client: TestClient, tenant: Tenant, **body: Any) -> Any:
    payload = {"location": HERE, "parcels": SMALL} | body
    response = client.post("/v1/slots:quote", json=payload, headers=tenant.headers("merchant"))
    assert response.status_code == 200, response.text
    return response.json()


def in_days(days: int) -> str:
    return (datetime.now(LISBON).date() + timedelta(days=days)).isoformat()


def offer_at(offers: list[dict[str, Any]], day: str, hour: int) -> dict[str, Any]:
    """The offer of ``day`` starting at ``hour`` local time."""
    for offer in offers:
        start = datetime.fromisoformat(offer["starts_at"]).astimezone(LISBON)
        if offer["service_date"] == day and start.hour == hour:
            return offer
    raise AssertionError(f"no offer at {day} {hour}:00")


def new_order(client: TestClient, tenant: Tenant, **overrides: Any) -> str:
    response = client.post(
        "/v1/orders", json=order_payload(**overrides), headers=tenant.headers("merchant")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def book(
    client: TestClient, tenant: Tenant, order_id: str, slot: str, who: str = "merchant"
) -> Any:
    return client.post(
        f"/v1/orders/{order_id}/slot", json={"slot_id": slot}, headers=tenant.headers(who)
    )


@pytest.fixture
def fleet(client: TestClient, tenant: Tenant) -> str:
    response = client.post(
        "/v1/vehicles", json=vehicle_payload(tenant.depot_id), headers=tenant.headers("dispatcher")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def planned_day(client: TestClient, database: Database, tenant: Tenant, slack_s: int) -> BuiltRoute:
    """A committed route in two days' time from 09:00 local, every stop with ``slack_s``."""
    day = datetime.now(LISBON).date() + timedelta(days=2)
    starts = datetime(day.year, day.month, day.day, 9, tzinfo=LISBON).astimezone(UTC)
    built = committed_route(client, database, tenant, STOPS, starts_at=starts)
    with database.unit_of_work() as session:
        session.execute(
            update(RouteStop).where(RouteStop.route_id == built.route_id).values(slack_s=slack_s)
        )
    return built


def test_a_quote_lists_every_window_of_the_week(
    client: TestClient, tenant: Tenant, fleet: str
) -> None:
    """Seven days of six windows, each with id, times, capacity, price and green fields."""
    body = quote(client, tenant)
    assert body["area_id"] == tenant.depot_id
    offers = body["offers"]
    assert len(offers) == 7 * 6
    assert len({o["id"] for o in offers}) == len(offers)
    first = offer_at(offers, in_days(1), 10)
    assert first["id"].startswith("slot_")
    assert first["id"].endswith(tenant.depot_id)
    assert first["feasible"]
    assert first["reason"] is None
    assert first["remaining"] == first["capacity"] == 100
    assert first["price_hint"] == {"amount": "4.90", "currency": "EUR"}
    assert offer_at(offers, in_days(1), 18)["price_hint"]["amount"] == "6.40"
    # Today's windows are closed for scheduled delivery since 22:00 yesterday.
    assert {o["reason"] for o in offers if o["service_date"] == in_days(0)} == {"cut_off"}


def test_service_levels_narrow_the_days(client: TestClient, tenant: Tenant, fleet: str) -> None:
    """Next-day quotes tomorrow only; a date range narrows scheduled ones."""
    assert {
        o["service_date"] for o in quote(client, tenant, service_level="next_day")["offers"]
    } == {in_days(1)}
    ranged = quote(client, tenant, from_date=in_days(2), to_date=in_days(3))["offers"]
    assert {o["service_date"] for o in ranged} == {in_days(2), in_days(3)}


def test_same_day_windows_close_two_hours_before_they_start(
    client: TestClient, tenant: Tenant, fleet: str
) -> None:
    """For same-day delivery a window is open exactly while its start is over 2 h away."""
    before = datetime.now(UTC)
    offers = quote(client, tenant, service_level="same_day")["offers"]
    after = datetime.now(UTC)
    assert {o["service_date"] for o in offers} == {in_days(0)}
    for offer in offers:
        closes = datetime.fromisoformat(offer["starts_at"]) - timedelta(hours=2)
        if before < closes <= after:
            continue  # closed while we asked
        assert (offer["reason"] == "cut_off") == (closes <= before), offer


def test_unservable_addresses_and_shipments(client: TestClient, tenant: Tenant, fleet: str) -> None:
    """Far from every depot: outside_service_area; bigger than every vehicle: too_heavy."""
    far = quote(client, tenant, location={"lat": 38.72, "lon": -9.14})["offers"]
    assert {o["reason"] for o in far} == {"outside_service_area"}
    heavy = quote(client, tenant, parcels={"count": 3, "weight_kg": 900.0, "volume_litres": 50.0})
    assert {o["reason"] for o in heavy["offers"]} == {"too_heavy"}


def test_booking_sets_the_window_history_and_notification(
    client: TestClient, database: Database, tenant: Tenant, fleet: str
) -> None:
    """A booking makes the slot the order's window and day, logs it and queues a message;
    changing it frees the old place."""
    order_id = new_order(client, tenant)
    offers = quote(client, tenant)["offers"]
    first, second = offer_at(offers, in_days(3), 10), offer_at(offers, in_days(3), 14)
    booked = book(client, tenant, order_id, first["id"])
    assert booked.status_code == 200, booked.text
    assert booked.json()["slot"]["remaining"] == 99
    assert booked.json()["slot"]["booked"]
    order = client.get(f"/v1/orders/{order_id}", headers=tenant.headers("merchant")).json()
    assert order["service_date"] == in_days(3)
    assert order["windows"] == [{"start": first["starts_at"], "end": first["ends_at"]}]
    assert book(client, tenant, order_id, second["id"]).status_code == 200
    again = quote(client, tenant)["offers"]
    assert offer_at(again, in_days(3), 10)["remaining"] == 100
    assert offer_at(again, in_days(3), 14)["remaining"] == 99
    history = client.get(f"/v1/orders/{order_id}/history", headers=tenant.headers("merchant"))
    events = [e["details"].get("event") for e in history.json()]
    assert events[-2:] == ["slot_booked", "slot_changed"]
    assert history.json()[-1]["details"]["previous_slot_id"] == first["id"]
    with database.unit_of_work() as session:
        sent = session.scalars(select(OutboxEvent.event).where(OutboxEvent.order_id == order_id))
        slot_events = sorted(e.value for e in sent if e.value.startswith("slot_"))
        assert slot_events == ["slot_booked", "slot_changed"]
    mine = client.get(f"/v1/orders/{order_id}/slots", headers=tenant.headers("merchant")).json()
    assert [o["id"] for o in mine if o["booked"]] == [second["id"]]
    # Its own place counts as free for the order itself.
    assert next(o for o in mine if o["id"] == second["id"])["remaining"] == 100


def test_a_full_slot_refuses_with_409_and_changes_nothing(
    client: TestClient, database: Database, tenant: Tenant, fleet: str
) -> None:
    """With capacity 1 the second booking gets 409 slot-full; its order keeps its window."""
    admin = tenant.headers("admin")
    policy = client.get("/v1/slot-policy", headers=admin).json()
    assert client.put("/v1/slot-policy", json=policy | {"capacity_per_window": 1},
                      headers=admin).status_code == 200  # fmt: skip
    first, second = new_order(client, tenant), new_order(client, tenant)
    slot = offer_at(quote(client, tenant)["offers"], in_days(2), 12)["id"]
    assert book(client, tenant, first, slot).status_code == 200
    before = client.get(f"/v1/orders/{second}", headers=tenant.headers("merchant")).json()
    refused = book(client, tenant, second, slot)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("slot-full")
    after = client.get(f"/v1/orders/{second}", headers=tenant.headers("merchant")).json()
    assert after == before
    with database.unit_of_work() as session:
        assert session.scalar(select(func.sum(SlotCounter.booked))) == 1
        assert session.scalar(select(SlotBooking.id).where(SlotBooking.order_id == second)) is None
    assert offer_at(quote(client, tenant)["offers"], in_days(2), 12)["reason"] == "full"


def test_a_cancelled_order_gives_its_place_back(
    client: TestClient, database: Database, tenant: Tenant, fleet: str
) -> None:
    """Cancelling frees the slot: the next customer can book the window that was full."""
    admin = tenant.headers("admin")
    policy = client.get("/v1/slot-policy", headers=admin).json()
    assert client.put("/v1/slot-policy", json=policy | {"capacity_per_window": 1},
                      headers=admin).status_code == 200  # fmt: skip
    first, second = new_order(client, tenant), new_order(client, tenant)
    slot = offer_at(quote(client, tenant)["offers"], in_days(2), 12)["id"]
    assert book(client, tenant, first, slot).status_code == 200
    assert book(client, tenant, second, slot).status_code == 409
    cancelled = client.post(f"/v1/orders/{first}/cancel", headers=tenant.headers("merchant"))
    assert cancelled.status_code == 200, cancelled.text
    with database.unit_of_work() as session:
        assert session.scalar(select(func.sum(SlotCounter.booked))) == 0
        assert session.scalar(select(SlotBooking.id).where(SlotBooking.order_id == first)) is None
    assert book(client, tenant, second, slot).status_code == 200


def test_booking_after_a_failed_attempt_books_the_next_attempt(
    client: TestClient, database: Database, tenant: Tenant, fleet: str
) -> None:
    """A failed order takes a new slot: it becomes rescheduled, off its route, in the pool."""
    route = planned_day(client, database, tenant, slack_s=3600)
    failed = route.order_ids[0]
    set_order(database, failed, status=OrderStatus.failed)
    slot = offer_at(quote(client, tenant)["offers"], in_days(3), 12)["id"]
    booked = book(client, tenant, failed, slot, who="dispatcher")
    assert booked.status_code == 200, booked.text
    order = client.get(f"/v1/orders/{failed}", headers=tenant.headers("dispatcher")).json()
    assert order["status"] == "rescheduled"
    assert order["route_id"] is None
    assert order["service_date"] == in_days(3)
    history = client.get(f"/v1/orders/{failed}/history", headers=tenant.headers("dispatcher"))
    assert [e["to_status"] for e in history.json()][-2:] == ["rescheduled", "rescheduled"]


def test_cut_off_and_unknown_slots_are_refused(
    client: TestClient, tenant: Tenant, fleet: str
) -> None:
    """A closed window answers 409 slot-unavailable; a made-up id 422 naming slot_id."""
    order_id = new_order(client, tenant)
    closed = offer_at(quote(client, tenant)["offers"], in_days(0), 18)
    refused = book(client, tenant, order_id, closed["id"])
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("slot-unavailable")
    assert "cut_off" in refused.json()["detail"]
    off_grid = closed["id"].replace("T", "X")
    for bad in (off_grid, closed["id"].replace("_120_", "_60_"), "slot_nope"):
        response = book(client, tenant, order_id, bad)
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == "slot_id"


def test_committed_day_needs_a_feasible_insertion(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """On a planned day with no slack anywhere, every window is no_vehicle_can_reach."""
    planned_day(client, database, tenant, slack_s=0)
    offers = quote(client, tenant, location={"lat": 41.1625, "lon": -8.5995})["offers"]
    day = [o for o in offers if o["service_date"] == in_days(2)]
    assert {o["reason"] for o in day} == {"no_vehicle_can_reach"}
    assert not any(o["green"] for o in day)


def test_green_when_a_route_passes_nearby_and_not_when_far(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """Beside the route in its hours: feasible, green, cheaper, with small extra km and CO2;
    10 km away: not green; in the evening, long after the route: unreachable."""
    planned_day(client, database, tenant, slack_s=7200)
    near = quote(client, tenant, location={"lat": 41.1625, "lon": -8.5995})["offers"]
    morning = offer_at(near, in_days(2), 8)
    assert morning["feasible"]
    assert morning["green"]
    assert 0 <= morning["extra_km"] < 0.5
    assert 0 <= morning["extra_co2_g"] < 0.5 * 240
    assert morning["price_hint"]["amount"] == "3.90"
    assert offer_at(near, in_days(2), 18)["reason"] == "no_vehicle_can_reach"
    far = quote(client, tenant, location={"lat": 41.24, "lon": -8.60})["offers"]
    assert not offer_at(far, in_days(2), 8)["green"]


def test_unplanned_days_are_green_near_waiting_orders(
    client: TestClient, tenant: Tenant, fleet: str
) -> None:
    """Before planning, an order already waiting 200 m away that day makes the day green."""
    day = datetime.now(LISBON).date() + timedelta(days=4)
    start = datetime(day.year, day.month, day.day, 10, tzinfo=LISBON)
    window = {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()}
    new_order(client, tenant, windows=[window])
    offers = quote(client, tenant, location={"lat": 41.1514, "lon": -8.6067})["offers"]
    assert offer_at(offers, in_days(4), 10)["green"]
    assert not offer_at(offers, in_days(5), 10)["green"]


def test_dispatched_orders_keep_their_stop(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """An order on a route may take the window its stop is planned in, not another."""
    built = planned_day(client, database, tenant, slack_s=7200)
    order_id = built.order_ids[0]
    offers = client.get(f"/v1/orders/{order_id}/slots", headers=tenant.headers("dispatcher")).json()
    assert (
        book(
            client, tenant, order_id, offer_at(offers, in_days(2), 8)["id"], "dispatcher"
        ).status_code
        == 200
    )
    refused = book(client, tenant, order_id, offer_at(offers, in_days(2), 14)["id"], "dispatcher")
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("slot-unavailable")


def test_booking_a_planned_order_sends_it_back_to_be_planned(
    client: TestClient, tenant: Tenant, fleet: str
) -> None:
    """A planned order that books another window is re-planned: it goes back to created."""
    order_id = new_order(client, tenant)
    moved = client.post(f"/v1/orders/{order_id}/transitions", json={"status": "planned"},
                        headers=tenant.headers("dispatcher"))  # fmt: skip
    assert moved.status_code == 200, moved.text
    slot = offer_at(quote(client, tenant)["offers"], in_days(2), 16)["id"]
    assert book(client, tenant, order_id, slot).status_code == 200
    order = client.get(f"/v1/orders/{order_id}", headers=tenant.headers("merchant")).json()
    assert order["status"] == "created"


def test_policy_is_per_organization_and_checked(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    """One tenant's policy never shows in another's; unknown depots are refused."""
    admin = tenant.headers("admin")
    policy = client.get("/v1/slot-policy", headers=admin).json()
    changed = policy | {"window_minutes": 60, "depot_capacity": {tenant.depot_id: 5}}
    assert client.put("/v1/slot-policy", json=changed, headers=admin).json()["window_minutes"] == 60
    assert client.get("/v1/slot-policy", headers=admin).json()["depot_capacity"] == {
        tenant.depot_id: 5
    }
    theirs = client.get("/v1/slot-policy", headers=other_tenant.headers("admin")).json()
    assert theirs["window_minutes"] == 120
    foreign = policy | {"depot_capacity": {other_tenant.depot_id: 5}}
    refused = client.put("/v1/slot-policy", json=foreign, headers=admin)
    assert refused.status_code == 422
    assert client.get("/v1/slot-policy", headers=tenant.headers("merchant")).status_code == 403


def test_another_tenants_order_is_not_found(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, fleet: str
) -> None:
    """Booking or listing slots of another organization's order answers 404."""
    order_id = new_order(client, tenant)
    slot = offer_at(quote(client, tenant)["offers"], in_days(2), 12)["id"]
    theirs = other_tenant.headers("merchant")
    assert client.post(f"/v1/orders/{order_id}/slot", json={"slot_id": slot},
                       headers=theirs).status_code == 404  # fmt: skip
    assert client.get(f"/v1/orders/{order_id}/slots", headers=theirs).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"parcels": SMALL}, "(body)"),
        ({"location": {"lat": 91, "lon": 0}, "parcels": SMALL}, "location.lat"),
        ({"location": HERE, "parcels": {"weight_kg": -1, "volume_litres": 1}}, "parcels.weight_kg"),
        ({"location": HERE, "parcels": SMALL, "from_date": "2000-01-01"}, "from_date"),
        ({"location": HERE, "parcels": SMALL, "service_level": "tomorrow"}, "service_level"),
    ],
)
def test_bad_quotes_name_the_field(
    client: TestClient, tenant: Tenant, fleet: str, body: dict[str, Any], field: str
) -> None:
    """Malformed or impossible quote requests answer 422 naming the field at fault."""
    response = client.post("/v1/slots:quote", json=body, headers=tenant.headers("merchant"))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field

"""Bad input on every POST (and PATCH): a 4xx problem+json naming the field; nothing written.

Each case names the endpoint, the caller, a body built from a valid one, and the field the
answer must blame. The database's row counts must be the same before and after. The cases
share one database per module: a case that wrongly writes fails itself, not the others.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lastmile.db.engine import Database
from tests.factories import (
    Tenant,
    address_payload,
    customer_payload,
    depot_payload,
    driver_payload,
    order_payload,
    pickup_point_payload,
    shift_payload,
    tomorrow_at,
    vehicle_payload,
)
from tests.helpers import assert_problem, row_counts, snapshot

NAIVE = "2031-05-04T09:00:00"  # no UTC offset


def without(body: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in names}


@dataclass(frozen=True)
class Bad:
    """One bad request: where it goes, who sends it, its body and the field to blame."""

    name: str
    path: Callable[[Tenant], str]
    who: str
    body: Callable[[Tenant], Any]
    field: str
    status: int = 422


def at(path: str) -> Callable[[Tenant], str]:
    return lambda t: path


def order(**changes: Any) -> Callable[[Tenant], dict[str, Any]]:
    return lambda t: order_payload(**changes)


def window(start: str, end: str) -> list[dict[str, str]]:
    return [{"start": start, "end": end}]


def parcel(**changes: Any) -> list[dict[str, Any]]:
    return [{"barcode": "BC000001", "weight_kg": 1.0, "volume_litres": 2.0} | changes]


CASES = [
    # --- depots
    Bad("depot lat out of range", at("/v1/depots"), "admin",
        lambda t: depot_payload(lat=91), "lat"),
    Bad("depot lon out of range", at("/v1/depots"), "admin",
        lambda t: depot_payload(lon=-180.5), "lon"),
    Bad("depot lat wrong type", at("/v1/depots"), "admin",
        lambda t: depot_payload(lat="north"), "lat"),
    Bad("depot missing name", at("/v1/depots"), "admin",
        lambda t: without(depot_payload(), "name"), "name"),
    Bad("depot unknown kind", at("/v1/depots"), "admin",
        lambda t: depot_payload(kind="castle"), "kind"),
    Bad("depot hours closing before opening", at("/v1/depots"), "admin",
        lambda t: depot_payload(opening_hours=[{"weekday": 0, "opens": "18:00",
                                                "closes": "08:00"}]),
        "opening_hours[0]"),
    Bad("depot negative loading time", at("/v1/depots"), "admin",
        lambda t: depot_payload(loading_time_s=-1), "loading_time_s"),
    # --- vehicles
    Bad("vehicle unknown type", at("/v1/vehicles"), "admin",
        lambda t: vehicle_payload(t.depot_id, type="tank"), "type"),
    Bad("vehicle capacity wrong type", at("/v1/vehicles"), "admin",
        lambda t: vehicle_payload(t.depot_id, capacity_parcels="many"), "capacity_parcels"),
    Bad("vehicle zero capacity", at("/v1/vehicles"), "admin",
        lambda t: vehicle_payload(t.depot_id, capacity_kg=0), "capacity_kg"),
    Bad("vehicle missing depot", at("/v1/vehicles"), "admin",
        lambda t: without(vehicle_payload(t.depot_id), "home_depot_id"), "home_depot_id"),
    Bad("vehicle unknown depot", at("/v1/vehicles"), "admin",
        lambda t: vehicle_payload("dep_nope"), "home_depot_id"),
    Bad("vehicle unknown routing profile", at("/v1/vehicles"), "admin",
        lambda t: vehicle_payload(t.depot_id, routing_profile="hovercraft"), "routing_profile"),
    # --- drivers
    Bad("driver bad skill", at("/v1/drivers"), "admin",
        lambda t: driver_payload(skills=["Heavy Lifting"]), "skills[0]"),
    Bad("driver missing name", at("/v1/drivers"), "admin",
        lambda t: without(driver_payload(), "name"), "name"),
    Bad("driver unknown depot", at("/v1/drivers"), "admin",
        lambda t: driver_payload(home_depot_id="dep_nope"), "home_depot_id"),
    Bad("driver login of a non-driver", at("/v1/drivers"), "admin",
        lambda t: driver_payload(user_id="usr_nope"), "user_id"),
    # --- shifts
    Bad("shift naive start", at("/v1/shifts"), "admin",
        lambda t: shift_payload(t.driver_id, starts_at=NAIVE), "starts_at"),
    Bad("shift ends before it starts", at("/v1/shifts"), "admin",
        lambda t: shift_payload(t.driver_id, ends_at=tomorrow_at(7)), "ends_at"),
    Bad("shift longer than 16 hours", at("/v1/shifts"), "admin",
        lambda t: shift_payload(t.driver_id, starts_at=tomorrow_at(1), ends_at=tomorrow_at(23)),
        "ends_at"),
    Bad("shift naive break", at("/v1/shifts"), "admin",
        lambda t: shift_payload(t.driver_id, breaks=[
            {"earliest_start": NAIVE, "latest_end": tomorrow_at(13), "duration_minutes": 30}]),
        "breaks[0].earliest_start"),
    Bad("shift break outside the shift", at("/v1/shifts"), "admin",
        lambda t: shift_payload(t.driver_id, breaks=[{"earliest_start": tomorrow_at(17),
            "latest_end": tomorrow_at(18), "duration_minutes": 30}]),
        "breaks"),
    Bad("shift unknown driver", at("/v1/shifts"), "admin",
        lambda t: shift_payload("drv_nope"), "driver_id"),
    Bad("shift missing driver", at("/v1/shifts"), "admin",
        lambda t: without(shift_payload(t.driver_id), "driver_id"), "driver_id"),
    # --- pickup points
    Bad("pickup point no compartments", at("/v1/pickup-points"), "admin",
        lambda t: pickup_point_payload(compartments=0), "compartments"),
    Bad("pickup point unknown kind", at("/v1/pickup-points"), "admin",
        lambda t: pickup_point_payload(kind="box"), "kind"),
    Bad("pickup point lat out of range", at("/v1/pickup-points"), "admin",
        lambda t: pickup_point_payload(lat=-90.01), "lat"),
    # --- customers
    Bad("customer bad phone", at("/v1/customers"), "merchant",
        lambda t: customer_payload(phone="call me"), "phone"),
    Bad("customer bad email", at("/v1/customers"), "merchant",
        lambda t: customer_payload(email="not-an-email"), "email"),
    Bad("customer unknown channel", at("/v1/customers"), "merchant",
        lambda t: customer_payload(channels=["fax"]), "channels[0]"),
    Bad("customer bad language", at("/v1/customers"), "merchant",
        lambda t: customer_payload(language="english"), "language"),
    Bad("customer missing name", at("/v1/customers"), "merchant",
        lambda t: without(customer_payload(), "name"), "name"),
    # --- addresses
    Bad("address lat out of range", at("/v1/addresses"), "merchant",
        lambda t: address_payload(lat=95), "lat"),
    Bad("address country not ISO", at("/v1/addresses"), "merchant",
        lambda t: address_payload(country="Portugal"), "country"),
    Bad("address missing line1", at("/v1/addresses"), "merchant",
        lambda t: without(address_payload(), "line1"), "line1"),
    Bad("address unknown customer", at("/v1/addresses"), "merchant",
        lambda t: address_payload(customer_id="cus_nope"), "customer_id"),
    Bad("address not geocodable", at("/v1/addresses"), "merchant",
        lambda t: without(address_payload(), "lat", "lon"), "lat"),
    # --- merchants, users, API keys, login
    Bad("merchant empty name", at("/v1/merchants"), "admin", lambda t: {"name": ""}, "name"),
    Bad("merchant name wrong type", at("/v1/merchants"), "admin", lambda t: {"name": 42}, "name"),
    Bad("merchant bad email", at("/v1/merchants"), "admin",
        lambda t: {"name": "Loja", "contact_email": "nope"}, "contact_email"),
    Bad("user unknown role", at("/v1/users"), "admin",
        lambda t: {"email": "x@example.org", "name": "X", "role": "root",
                   "password": "long enough secret"}, "role"),
    Bad("user short password", at("/v1/users"), "admin",
        lambda t: {"email": "x@example.org", "name": "X", "role": "driver", "password": "short"},
        "password"),
    Bad("user bad email", at("/v1/users"), "admin",
        lambda t: {"email": "x", "name": "X", "role": "driver", "password": "long enough secret"},
        "email"),
    Bad("api key empty name", lambda t: f"/v1/merchants/{t.merchant_id}/api-keys", "admin",
        lambda t: {"name": ""}, "name"),
    Bad("api key missing name", lambda t: f"/v1/merchants/{t.merchant_id}/api-keys", "admin",
        lambda t: {}, "name"),
    Bad("login bad email", at("/v1/auth/token"), "", lambda t: {"email": "x", "password": "p"},
        "email"),
    Bad("login missing password", at("/v1/auth/token"), "",
        lambda t: {"email": "x@example.org"}, "password"),
    # --- orders
    Bad("order window ends before it starts", at("/v1/orders"), "merchant",
        order(windows=window(tomorrow_at(11), tomorrow_at(9))), "windows[0].end"),
    Bad("order naive window", at("/v1/orders"), "merchant",
        order(windows=window(NAIVE, tomorrow_at(11))), "windows[0].start"),
    Bad("order window already over", at("/v1/orders"), "merchant",
        order(windows=window("2020-01-01T09:00:00Z", "2020-01-01T11:00:00Z")), "windows[0].end"),
    Bad("order address lat out of range", at("/v1/orders"), "merchant",
        lambda t: order_payload(address=address_payload(lat=91)), "address.lat"),
    Bad("order address lon wrong type", at("/v1/orders"), "merchant",
        lambda t: order_payload(address=address_payload(lon="west")), "address.lon"),
    Bad("order no parcels", at("/v1/orders"), "merchant", order(parcels=[]), "parcels"),
    Bad("order missing parcels", at("/v1/orders"), "merchant",
        lambda t: without(order_payload(), "parcels"), "parcels"),
    Bad("order parcel weight wrong type", at("/v1/orders"), "merchant",
        order(parcels=parcel(weight_kg="heavy")), "parcels[0].weight_kg"),
    Bad("order parcel bad barcode", at("/v1/orders"), "merchant",
        order(parcels=parcel(barcode="no spaces!")), "parcels[0].barcode"),
    Bad("order unknown service level", at("/v1/orders"), "merchant",
        order(service_level="yesterday"), "service_level"),
    Bad("order unknown delivery method", at("/v1/orders"), "merchant",
        order(delivery_method="catapult"), "delivery_method"),
    Bad("order naive release time", at("/v1/orders"), "merchant",
        order(release_at=NAIVE), "release_at"),
    Bad("order priority out of range", at("/v1/orders"), "merchant", order(priority=101),
        "priority"),
    Bad("order bad currency", at("/v1/orders"), "merchant",
        order(declared_value={"amount": "10.00", "currency": "euro"}), "declared_value.currency"),
    Bad("order unknown locker", at("/v1/orders"), "merchant",
        order(delivery_method="locker", pickup_point_id="pup_nope"), "pickup_point_id"),
    Bad("order unknown customer", at("/v1/orders"), "merchant",
        lambda t: without(order_payload(customer_id="cus_nope"), "customer"), "customer_id"),
    Bad("order for another merchant", at("/v1/orders"), "merchant",
        lambda t: order_payload(merchant_id=t.merchant2_id), "merchant_id"),
    # The body is checked before the order is looked up, so no order needs to exist.
    Bad("transition unknown status", at("/v1/orders/ord_0/transitions"),
        "dispatcher", lambda t: {"status": "teleported"}, "status"),
    # --- planning (validation only: no search starts)
    Bad("plan date not a date", at("/v1/plans"), "dispatcher",
        lambda t: {"service_date": "tomorrow"}, "service_date"),
    Bad("plan time limit zero", at("/v1/plans"), "dispatcher",
        lambda t: {"service_date": "2031-01-02", "time_limit_s": 0}, "time_limit_s"),
    # --- tracking (per-fix quality refusals are not 4xx: tests/tracking/test_positions_api.py)
    Bad("positions empty batch", at("/v1/positions"), "dispatcher",
        lambda t: {"fixes": [], "vehicle_id": "veh_0"}, "fixes"),
    Bad("positions naive time", at("/v1/positions"), "dispatcher",
        lambda t: {"fixes": [{"t": NAIVE, "lat": 41.1, "lon": -8.6}]}, "fixes[0].t"),
    Bad("positions lat wrong type", at("/v1/positions"), "driver",
        lambda t: {"fixes": [{"t": tomorrow_at(9), "lat": "north", "lon": -8.6}]},
        "fixes[0].lat"),
    Bad("positions battery above 1", at("/v1/positions"), "driver",
        lambda t: {"fixes": [{"t": tomorrow_at(9), "lat": 41.1, "lon": -8.6, "battery": 80}]},
        "fixes[0].battery"),
    Bad("positions unknown field", at("/v1/positions"), "driver",
        lambda t: {"fixes": [{"t": tomorrow_at(9), "lat": 41.1, "lon": -8.6, "alt": 3}]},
        "fixes[0].alt"),
    Bad("device unknown vehicle", at("/v1/tracking-devices"), "admin",
        lambda t: {"vehicle_id": "veh_nope", "name": "Phone"}, "", 404),
    Bad("device identifier too short", at("/v1/tracking-devices"), "admin",
        lambda t: {"vehicle_id": "veh_nope", "name": "Phone", "identifier": "abc"},
        "identifier"),
    Bad("device identifier bad characters", at("/v1/tracking-devices"), "admin",
        lambda t: {"vehicle_id": "veh_0", "name": "Phone", "identifier": "has spaces in it"},
        "identifier"),
    Bad("stop confirmation naive time", at("/v1/routes/rte_0/stops/stp_0/arrival"), "driver",
        lambda t: {"at": NAIVE}, "at"),
    # --- driver (checked before the route or stop is looked up; multipart: tests/driver)
    Bad("loadout malformed barcode", at("/v1/driver/routes/rte_0/loadout"), "driver",
        lambda t: {"barcodes": ["ok-1234", "no spaces!"]}, "barcodes[1]"),
    Bad("loadout unknown field", at("/v1/driver/routes/rte_0/loadout"), "driver",
        lambda t: {"barcodes": [], "truck": 1}, "truck"),
    Bad("loadout naive time", at("/v1/driver/routes/rte_0/loadout"), "driver",
        lambda t: {"barcodes": [], "at": NAIVE}, "at"),
    Bad("arrive naive time", at("/v1/driver/stops/stp_0/arrive"), "driver",
        lambda t: {"at": NAIVE}, "at"),
    Bad("depart naive time", at("/v1/driver/stops/stp_0/depart"), "driver",
        lambda t: {"at": NAIVE}, "at"),
    Bad("custody unknown event", at("/v1/parcels/BC000001/custody"), "admin",
        lambda t: {"event": "teleported"}, "event"),
    Bad("custody naive time", at("/v1/parcels/BC000001/custody"), "admin",
        lambda t: {"event": "collected", "at": NAIVE}, "at"),
    # --- slots
    Bad("quote without a place", at("/v1/slots:quote"), "merchant",
        lambda t: {"parcels": {"weight_kg": 1, "volume_litres": 2}}, "(body)"),
    Bad("quote lat out of range", at("/v1/slots:quote"), "merchant",
        lambda t: {"location": {"lat": 91, "lon": 0},
                   "parcels": {"weight_kg": 1, "volume_litres": 2}}, "location.lat"),
    Bad("quote no parcel weight", at("/v1/slots:quote"), "merchant",
        lambda t: {"location": {"lat": 41.1, "lon": -8.6}, "parcels": {"volume_litres": 2}},
        "parcels.weight_kg"),
    Bad("slot booking without slot id", at("/v1/orders/ord_0/slot"), "merchant",
        lambda t: {}, "slot_id"),
    # --- chat and feedback (staff bodies are checked before the order is looked up; the
    # customer's token is checked first, so their bodies are in tests/chat and tests/feedback)
    Bad("message too long", at("/v1/orders/ord_0/messages"), "driver",
        lambda t: {"body": "x" * 1001}, "body"),
    Bad("message unknown quick reply", at("/v1/orders/ord_0/messages"), "driver",
        lambda t: {"quick_reply": "im_lost"}, "quick_reply"),
    Bad("read receipt below zero", at("/v1/orders/ord_0/messages/read"), "dispatcher",
        lambda t: {"up_to": -1}, "up_to"),
    Bad("customer message unknown token", at(f"/v1/self-service/{'x' * 32}/messages"), "",
        lambda t: {"body": ""}, "", 404),
    Bad("customer read unknown token", at(f"/v1/self-service/{'x' * 32}/messages/read"), "",
        lambda t: {"up_to": -1}, "", 404),
    Bad("rating unknown token", at(f"/v1/self-service/{'x' * 32}/feedback"), "",
        lambda t: {"rating": 9}, "", 404),
    Bad("follow-up blank note", at("/v1/follow-ups/fup_0/resolve"), "dispatcher",
        lambda t: {"note": "  "}, "note"),
    # --- dispatch (bodies are checked before any route, stop or order is looked up)
    Bad("move without target", at("/v1/routes/rte_0/stops/stp_0/move"), "dispatcher",
        lambda t: {}, "to_route_id"),
    Bad("move check position zero", at("/v1/routes/rte_0/stops/stp_0/move:check"),
        "dispatcher", lambda t: {"to_route_id": "rte_1", "position": 0}, "position"),
    Bad("replan time limit too long", at("/v1/routes/rte_0/replan"), "dispatcher",
        lambda t: {"time_limit_s": 60}, "time_limit_s"),
    Bad("notify empty message", at("/v1/dispatch/orders/ord_0/notify"), "dispatcher",
        lambda t: {"message": ""}, "message"),
    Bad("acknowledge note too long", at("/v1/dispatch/exceptions/late:x/acknowledge"),
        "dispatcher", lambda t: {"note": "x" * 501}, "note"),
    # --- self-service (the body is checked before the token is looked up)
    Bad("self-service window without slot", at(f"/v1/self-service/{'x' * 32}/window"), "",
        lambda t: {}, "slot_id"),
    Bad("self-service reschedule slot too long",
        at(f"/v1/self-service/{'x' * 32}/reschedule"), "", lambda t: {"slot_id": "s" * 101},
        "slot_id"),
    Bad("self-service redirect point wrong type", at(f"/v1/self-service/{'x' * 32}/redirect"),
        "", lambda t: {"pickup_point_id": 7}, "pickup_point_id"),
    Bad("self-service unknown safe place", at(f"/v1/self-service/{'x' * 32}/safe-place"), "",
        lambda t: {"safe_place": "chimney"}, "safe_place"),
    Bad("self-service instructions too long",
        at(f"/v1/self-service/{'x' * 32}/instructions"), "",
        lambda t: {"instructions": "x" * 1001}, "instructions"),
    Bad("self-service no delivery option",
        at(f"/v1/self-service/{'x' * 32}/delivery-options"), "", lambda t: {}, "(body)"),
    # --- ledger
    Bad("ledger publish not a date", at("/v1/ledger/roots:publish"), "admin",
        lambda t: {"up_to_day": "yesterday"}, "up_to_day"),
    Bad("ledger publish unknown field", at("/v1/ledger/roots:publish"), "admin",
        lambda t: {"up_to": "2024-05-01"}, "up_to"),
    # --- webhook endpoints
    Bad("webhook url not http", at("/v1/webhook-endpoints"), "merchant",
        lambda t: {"url": "ftp://hooks.example.org/x"}, "url"),
    Bad("webhook url with credentials", at("/v1/webhook-endpoints"), "merchant",
        lambda t: {"url": "https://u:p@hooks.example.org/x"}, "url"),
    Bad("webhook url to a private address", at("/v1/webhook-endpoints"), "merchant",
        lambda t: {"url": "http://127.0.0.1:8080/hook"}, "url"),
    Bad("webhook unknown event", at("/v1/webhook-endpoints"), "merchant",
        lambda t: {"url": "https://hooks.example.org/x", "events": ["exploded"]}, "events[0]"),
    Bad("webhook unknown field", at("/v1/webhook-endpoints"), "merchant",
        lambda t: {"url": "https://hooks.example.org/x", "secret": "mine"}, "secret"),
    Bad("plain text instead of JSON", at("/v1/depots"), "admin", lambda t: "lat=91", ""),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_post_is_refused_and_writes_nothing(
    module_client: TestClient, module_tenant: Tenant, module_database: Database, case: Bad
) -> None:
    """The answer is a 4xx problem+json naming the field, and no table gains or loses a row."""
    client, tenant, database = module_client, module_tenant, module_database
    body = case.body(tenant)
    headers = tenant.headers(case.who) if case.who else {}
    before = row_counts(database)
    if isinstance(body, str):
        headers["content-type"] = "application/json"
        response = client.post(case.path(tenant), content=body, headers=headers)
    else:
        response = client.post(case.path(tenant), json=body, headers=headers)
    assert_problem(response, case.status, *([case.field] if case.field else []))
    assert all(e["message"] for e in response.json()["errors"])
    assert row_counts(database) == before


def test_every_post_with_a_body_is_in_the_table(
    module_client: TestClient, module_tenant: Tenant
) -> None:
    """Each POST operation that takes a JSON body has bad-input cases (import: test_import)."""
    paths = module_client.app.openapi()["paths"]  # type: ignore[attr-defined]
    templates = {
        path
        for path, item in paths.items()
        if "post" in item
        and "application/json" in item["post"].get("requestBody", {}).get("content", {})
        and path != "/v1/orders:import"
    }
    tried = {case.path(module_tenant) for case in CASES}
    untested = {
        template
        for template in templates
        if not any(re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), p) for p in tried)
    }
    assert untested == set()


def test_valid_bodies_of_the_table_are_accepted(client: TestClient, tenant: Tenant) -> None:
    """The bodies the bad cases start from are valid, so each case fails for its one defect."""
    valid = [
        ("/v1/depots", "admin", depot_payload()),
        ("/v1/vehicles", "admin", vehicle_payload(tenant.depot_id)),
        ("/v1/drivers", "admin", driver_payload()),
        ("/v1/shifts", "admin", shift_payload(tenant.driver_id)),
        ("/v1/pickup-points", "admin", pickup_point_payload()),
        ("/v1/customers", "merchant", customer_payload()),
        ("/v1/addresses", "merchant", address_payload()),
        ("/v1/orders", "merchant", order_payload()),
    ]
    for path, who, body in valid:
        response = client.post(path, json=body, headers=tenant.headers(who))
        assert response.status_code == 201, (path, response.text)


# --- PATCH: the merged record is validated again ---------------------------------------------


@dataclass(frozen=True)
class BadPatch:
    """A partial update valid on its own that makes the stored record invalid."""

    name: str
    create: Callable[[Tenant], tuple[str, str, dict[str, Any]]]  # collection, caller, body
    patch: dict[str, Any]
    field: str


def _created(path: str, who: str, body: Callable[[Tenant], dict[str, Any]]) -> Any:
    return lambda t: (path, who, body(t))


PATCHES = [
    BadPatch("shift ends before its start", _created("/v1/shifts", "admin",
             lambda t: shift_payload(t.driver_id)), {"ends_at": tomorrow_at(6)}, "ends_at"),
    BadPatch("shift starts after its end", _created("/v1/shifts", "admin",
             lambda t: shift_payload(t.driver_id)), {"starts_at": tomorrow_at(17)}, "ends_at"),
    BadPatch("shift naive end", _created("/v1/shifts", "admin",
             lambda t: shift_payload(t.driver_id)), {"ends_at": NAIVE}, "ends_at"),
    BadPatch("shift break outside after move", _created("/v1/shifts", "admin",
             lambda t: shift_payload(t.driver_id, breaks=[{"earliest_start": tomorrow_at(12),
             "latest_end": tomorrow_at(13), "duration_minutes": 30}])),
             {"ends_at": tomorrow_at(12, 30)}, "breaks"),
    BadPatch("depot lat out of range", _created("/v1/depots", "admin", lambda t: depot_payload()),
             {"lat": 91}, "lat"),
    BadPatch("depot name null", _created("/v1/depots", "admin", lambda t: depot_payload()),
             {"name": None}, "name"),
    BadPatch("vehicle unknown depot", _created("/v1/vehicles", "admin",
             lambda t: vehicle_payload(t.depot_id)), {"home_depot_id": "dep_nope"},
             "home_depot_id"),
    BadPatch("customer repeated channel", _created("/v1/customers", "merchant",
             lambda t: customer_payload()), {"channels": ["sms", "sms"]}, "channels"),
    BadPatch("order safe place delivery without a place", _created("/v1/orders", "merchant",
             lambda t: order_payload()), {"delivery_method": "safe_place"}, "safe_place"),
    BadPatch("order scheduled without windows", _created("/v1/orders", "merchant",
             lambda t: order_payload()), {"windows": []}, "windows"),
    BadPatch("order window ends before start", _created("/v1/orders", "merchant",
             lambda t: order_payload()),
             {"windows": window(tomorrow_at(12), tomorrow_at(10))}, "windows[0].end"),
    BadPatch("order window already over", _created("/v1/orders", "merchant",
             lambda t: order_payload()),
             {"windows": window("2020-01-01T09:00:00Z", "2020-01-01T10:00:00Z")}, "windows[0].end"),
    BadPatch("order priority null", _created("/v1/orders", "merchant", lambda t: order_payload()),
             {"priority": None}, "priority"),
    BadPatch("order delivery method null", _created("/v1/orders", "merchant",
             lambda t: order_payload()), {"delivery_method": None}, "delivery_method"),
]  # fmt: skip


@pytest.mark.parametrize("case", PATCHES, ids=lambda c: c.name)
def test_patch_revalidates_the_merged_record(
    module_client: TestClient, module_tenant: Tenant, module_database: Database, case: BadPatch
) -> None:
    """A PATCH that would leave the record invalid answers 422 and changes nothing."""
    client, tenant, database = module_client, module_tenant, module_database
    collection, who, body = case.create(tenant)
    created = client.post(collection, json=body, headers=tenant.headers(who))
    assert created.status_code == 201, created.text
    url = f"{collection}/{created.json()['id']}"
    before = snapshot(database)
    response = client.patch(url, json=case.patch, headers=tenant.headers(who))
    assert_problem(response, 422, *([case.field] if case.field else []))
    assert snapshot(database) == before
    assert client.get(url, headers=tenant.headers(who)).json() == created.json()


def test_user_patch_without_password_keeps_it(client: TestClient, tenant: Tenant) -> None:
    """Deactivating a user needs no password in the body; a short new password is refused."""
    users = client.get("/v1/users", headers=tenant.headers("admin")).json()["items"]
    dispatcher = next(u for u in users if u["role"] == "dispatcher")
    url = f"/v1/users/{dispatcher['id']}"
    renamed = client.patch(url, json={"name": "Dee Spatcher"}, headers=tenant.headers("admin"))
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Dee Spatcher"
    short = client.patch(url, json={"password": "short"}, headers=tenant.headers("admin"))
    assert_problem(short, 422, "password")


@pytest.mark.parametrize(
    ("method", "path", "body", "nul"),
    [
        ("POST", "/v1/merchants", {"name": "Loja\x00"}, True),
        ("POST", "/v1/customers", {"name": "Ana", "phone": None, "channels": []}, False),
        ("GET", "/v1/depots/dep%00", None, True),
        ("GET", "/v1/orders?zone=north%00", None, True),
    ],
    ids=["merchant-name", "control", "path-id", "query"],
)
def test_nul_characters_never_cause_a_server_error(
    module_client: TestClient,
    module_tenant: Tenant,
    module_database: Database,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    nul: bool,
) -> None:
    """Text with a NUL (which PostgreSQL cannot store) is no 5xx; if refused, nothing is written."""
    before = row_counts(module_database)
    response = module_client.request(
        method, path, json=body, headers=module_tenant.headers("admin")
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert_problem(response, response.status_code)
        assert row_counts(module_database) == before
    if nul and module_database.engine.dialect.name == "postgresql":
        assert_problem(response, 422)

"""Cursor pagination and filters on the list endpoints."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lastmile.db.engine import Database
from lastmile.orders.status import OrderStatus
from tests.factories import (
    Tenant,
    address_payload,
    customer_payload,
    depot_payload,
    driver_payload,
    order_payload,
    pickup_point_payload,
    shift_payload,
    tomorrow_window,
    vehicle_payload,
)
from tests.helpers import assert_problem, set_order

EXTRA = 5  # rows each test adds to what the tenant already has


@dataclass(frozen=True)
class Listing:
    """A list endpoint, who may read it, and how to add one more row to it."""

    name: str
    path: Callable[[Tenant], str]
    who: str
    add: Callable[[TestClient, Tenant, int], None]


def poster(
    path: str | Callable[[Tenant], str], who: str, body: Callable[[Tenant, int], dict[str, Any]]
) -> Callable[[TestClient, Tenant, int], None]:
    def add(client: TestClient, tenant: Tenant, i: int) -> None:
        url = path if isinstance(path, str) else path(tenant)
        response = client.post(url, json=body(tenant, i), headers=tenant.headers(who))
        assert response.status_code == 201, response.text

    return add


def _shift(t: Tenant, i: int) -> dict[str, Any]:
    day = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    start = day + timedelta(days=i + 1)
    return shift_payload(
        t.driver_id, starts_at=start.isoformat(), ends_at=(start + timedelta(hours=8)).isoformat()
    )


LISTINGS = [
    Listing("depots", lambda t: "/v1/depots", "dispatcher",
            poster("/v1/depots", "admin", lambda t, i: depot_payload(name=f"D{i}"))),
    Listing("vehicles", lambda t: "/v1/vehicles", "dispatcher",
            poster("/v1/vehicles", "admin", lambda t, i: vehicle_payload(t.depot_id))),
    Listing("drivers", lambda t: "/v1/drivers", "dispatcher",
            poster("/v1/drivers", "admin", lambda t, i: driver_payload())),
    Listing("shifts", lambda t: "/v1/shifts", "dispatcher", poster("/v1/shifts", "admin", _shift)),
    Listing("pickup-points", lambda t: "/v1/pickup-points", "merchant",
            poster("/v1/pickup-points", "admin", lambda t, i: pickup_point_payload())),
    Listing("customers", lambda t: "/v1/customers", "merchant",
            poster("/v1/customers", "merchant", lambda t, i: customer_payload())),
    Listing("addresses", lambda t: "/v1/addresses", "merchant",
            poster("/v1/addresses", "merchant", lambda t, i: address_payload())),
    Listing("merchants", lambda t: "/v1/merchants", "dispatcher",
            poster("/v1/merchants", "admin", lambda t, i: {"name": f"M{i}"})),
    Listing("users", lambda t: "/v1/users", "dispatcher",
            poster("/v1/users", "admin", lambda t, i: {"email": f"u{i}@example.org", "name": "U",
                                                      "role": "driver",
                                                      "password": "long enough secret"})),
    Listing("api-keys", lambda t: f"/v1/merchants/{t.merchant_id}/api-keys", "admin",
            poster(lambda t: f"/v1/merchants/{t.merchant_id}/api-keys", "admin",
                   lambda t, i: {"name": f"k{i}"})),
    Listing("orders", lambda t: "/v1/orders", "dispatcher",
            poster("/v1/orders", "merchant", lambda t, i: order_payload())),
]  # fmt: skip


def pages(
    client: TestClient, url: str, headers: dict[str, str], limit: int, **filters: str
) -> list[list[str]]:
    """The ids of every page, following next_cursor from the first page to the last."""
    result, cursor = [], None
    while True:
        params: dict[str, Any] = filters | {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = client.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        result.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return result
        assert len(result) < 100, "pagination does not end"


@pytest.mark.parametrize("listing", LISTINGS, ids=lambda listing: listing.name)
def test_cursor_chain_has_no_gaps_or_repeats(
    client: TestClient, tenant: Tenant, listing: Listing
) -> None:
    """Following next_cursor visits every row exactly once, in id order, in full pages."""
    for i in range(EXTRA):
        listing.add(client, tenant, i)
    url, headers = listing.path(tenant), tenant.headers(listing.who)
    everything = client.get(url, params={"limit": 200}, headers=headers).json()
    assert everything["next_cursor"] is None
    all_ids = [item["id"] for item in everything["items"]]
    assert len(all_ids) >= EXTRA
    for limit in (1, 2, 3):
        chained = pages(client, url, headers, limit)
        flat = [id_ for page in chained for id_ in page]
        assert flat == sorted(all_ids), f"limit={limit}"
        assert all(len(page) == limit for page in chained[:-1])
        assert len(chained[-1]) > 0 or len(all_ids) % limit == 0
        assert len(chained) == -(-len(all_ids) // limit)


def test_rows_added_between_pages_appear_later(client: TestClient, tenant: Tenant) -> None:
    """A row created while paging comes on a later page: the cursor is a position, not an offset."""
    for i in range(3):
        client.post("/v1/depots", json=depot_payload(name=f"D{i}"), headers=tenant.headers("admin"))
    headers = tenant.headers("admin")
    first = client.get("/v1/depots", params={"limit": 2}, headers=headers).json()
    new = client.post("/v1/depots", json=depot_payload(), headers=headers).json()["id"]
    rest = client.get(
        "/v1/depots", params={"limit": 200, "cursor": first["next_cursor"]}, headers=headers
    ).json()
    seen = [d["id"] for d in first["items"] + rest["items"]]
    assert len(seen) == len(set(seen)) == 5
    assert seen[-1] == new


@pytest.mark.parametrize("limit", [1, 200])
def test_limit_bounds_are_accepted(client: TestClient, tenant: Tenant, limit: int) -> None:
    """Limits 1 and 200 are valid."""
    response = client.get("/v1/depots", params={"limit": limit}, headers=tenant.headers("admin"))
    assert response.status_code == 200
    assert len(response.json()["items"]) == 1


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


BAD_LIMITS = ["0", "201", "-1", "ten", "1.5"]
BAD_CURSORS = {
    "not base64": "!!!",
    "not an id": _b64("hello world"),
    "not utf-8": base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    "sql": _b64("ord_x' OR 1=1 --"),
    "too long": "A" * 201,
}


@pytest.mark.parametrize("listing", LISTINGS, ids=lambda listing: listing.name)
def test_bad_limit_or_cursor_is_refused(
    client: TestClient, tenant: Tenant, listing: Listing
) -> None:
    """A limit outside 1..200 or a cursor this API did not hand out answers 422 naming it."""
    url, headers = listing.path(tenant), tenant.headers(listing.who)
    for limit in BAD_LIMITS:
        response = client.get(url, params={"limit": limit}, headers=headers)
        assert_problem(response, 422, "query.limit")
    for name, cursor in BAD_CURSORS.items():
        body = assert_problem(client.get(url, params={"cursor": cursor}, headers=headers), 422)
        assert any("cursor" in e["field"] for e in body["errors"]), (name, body)


# --- filters ---------------------------------------------------------------------------------


def _ids(client: TestClient, tenant: Tenant, path: str, **params: Any) -> set[str]:
    response = client.get(path, params={"limit": 200, **params}, headers=tenant.headers("admin"))
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def test_order_filters(client: TestClient, tenant: Tenant, database: Database) -> None:
    """Orders filter by status, service date, zone, driver and merchant, alone and combined."""
    merchant, staff = tenant.headers("merchant"), tenant.headers("admin")

    def new(**changes: Any) -> str:
        response = client.post("/v1/orders", json=order_payload(**changes), headers=merchant)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    later = tomorrow_window()
    later = {
        k: (datetime.fromisoformat(v) + timedelta(days=1)).isoformat() for k, v in later.items()
    }
    north, south, far = new(zone="north"), new(zone="south"), new(zone="north", windows=[later])
    staff_order = client.post("/v1/orders", json=order_payload(), headers=staff).json()["id"]
    client.post(f"/v1/orders/{south}/transitions", json={"status": "planned"}, headers=staff)
    set_order(database, far, driver_id=tenant.driver_id)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    everything = {north, south, far, staff_order}

    assert _ids(client, tenant, "/v1/orders") == everything
    assert _ids(client, tenant, "/v1/orders", zone="north") == {north, far}
    assert _ids(client, tenant, "/v1/orders", status="planned") == {south}
    assert _ids(client, tenant, "/v1/orders", status="created") == everything - {south}
    assert _ids(client, tenant, "/v1/orders", service_date=tomorrow) == everything - {far}
    assert _ids(client, tenant, "/v1/orders", driver_id=tenant.driver_id) == {far}
    assert _ids(client, tenant, "/v1/orders", merchant_id=tenant.merchant_id) == everything - {
        staff_order
    }
    assert _ids(client, tenant, "/v1/orders", zone="north", service_date=tomorrow) == {north}
    assert _ids(client, tenant, "/v1/orders", status=OrderStatus.delivered) == set()


def test_fleet_and_customer_filters(client: TestClient, tenant: Tenant) -> None:
    """Vehicles filter by type and depot, depots and pickup points by kind, and so on."""
    admin, merchant = tenant.headers("admin"), tenant.headers("merchant")

    def new(path: str, body: dict[str, Any], headers: dict[str, str] = admin) -> str:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    hub = new("/v1/depots", depot_payload(kind="hub"))
    van = new("/v1/vehicles", vehicle_payload(tenant.depot_id, type="van"))
    bike = new("/v1/vehicles", vehicle_payload(hub, type="cargo_bike"))
    driver = new("/v1/drivers", driver_payload(home_depot_id=hub))
    shift = new("/v1/shifts", shift_payload(driver))
    point = new("/v1/pickup-points", pickup_point_payload(kind="pickup_point"))
    customer = new("/v1/customers", customer_payload(), merchant)
    address = new("/v1/addresses", address_payload(customer_id=customer), merchant)
    new("/v1/addresses", address_payload(), merchant)

    assert _ids(client, tenant, "/v1/vehicles", type="cargo_bike") == {bike}
    assert _ids(client, tenant, "/v1/vehicles", type="van") == {van}
    assert _ids(client, tenant, "/v1/vehicles", type="drone") == set()
    assert _ids(client, tenant, "/v1/vehicles", home_depot_id=hub) == {bike}
    assert _ids(client, tenant, "/v1/vehicles", type="van", home_depot_id=hub) == set()
    assert _ids(client, tenant, "/v1/depots", kind="hub") == {hub}
    assert _ids(client, tenant, "/v1/depots", kind="depot") == {tenant.depot_id}
    assert _ids(client, tenant, "/v1/drivers", home_depot_id=hub) == {driver}
    assert _ids(client, tenant, "/v1/shifts", driver_id=driver) == {shift}
    assert _ids(client, tenant, "/v1/pickup-points", kind="pickup_point") == {point}
    assert _ids(client, tenant, "/v1/pickup-points", kind="locker") == {tenant.locker_id}
    assert _ids(client, tenant, "/v1/addresses", customer_id=customer) == {address}


BAD_FILTERS = [
    ("/v1/orders", "status", "lost"),
    ("/v1/orders", "service_date", "tomorrow"),
    ("/v1/orders", "zone", "z" * 41),
    ("/v1/vehicles", "type", "tank"),
    ("/v1/depots", "kind", "castle"),
    ("/v1/pickup-points", "kind", "box"),
]


@pytest.mark.parametrize(("path", "name", "value"), BAD_FILTERS)
def test_invalid_filter_value_is_refused(
    client: TestClient, tenant: Tenant, path: str, name: str, value: str
) -> None:
    """A filter value of the wrong kind answers 422 naming the parameter, not 500."""
    response = client.get(path, params={name: value}, headers=tenant.headers("admin"))
    assert_problem(response, 422, f"query.{name}")


def test_filters_page_too(client: TestClient, tenant: Tenant) -> None:
    """A filtered list pages through its own matches only."""
    for kind in ("hub", "depot", "hub", "hub", "depot"):
        client.post("/v1/depots", json=depot_payload(kind=kind), headers=tenant.headers("admin"))
    chained = pages(client, "/v1/depots", tenant.headers("admin"), 2, kind="hub")
    flat = [id_ for page in chained for id_ in page]
    assert flat == sorted(_ids(client, tenant, "/v1/depots", kind="hub"))
    assert len(flat) == 3

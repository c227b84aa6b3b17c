"""Start of shift, arrival and departure by hand, and load-out: each on the driver's own route
only, applied as tracking would, and load-out scans recorded once with a `loaded` entry."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from lastmile.db.engine import Database
from lastmile.driver.models import ParcelScan
from lastmile.ledger.models import CustodyEntry
from lastmile.ledger.service import verify_ledger
from lastmile.live.channels import fleet_channel
from lastmile.planning.models import Route, RouteStatus
from tests.driver.conftest import STOPS, OtherDriver
from tests.factories import Tenant, order_payload
from tests.helpers import assert_problem, snapshot
from tests.tracking.builders import BuiltRoute, committed_route
from tests.tracking.test_route_progress import collect, order_states, states


def barcodes(client: TestClient, tenant: Tenant, route: BuiltRoute) -> list[str]:
    return [
        client.get(f"/v1/orders/{o}", headers=tenant.headers("admin")).json()["parcels"][0][
            "barcode"
        ]
        for o in route.order_ids
    ]


def test_starting_the_shift_puts_orders_out_for_delivery(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """The route is under way, its orders out (the first stop's arriving), live; again: same."""
    url = f"/v1/driver/routes/{route.route_id}/start"
    responses = []
    events = collect(
        client, [fleet_channel(tenant.organization_id)],
        lambda: responses.append(client.post(url, headers=tenant.headers("driver"))),
    )  # fmt: skip
    assert responses[0].status_code == 200, responses[0].text
    assert responses[0].json()["status"] == "in_progress"
    assert order_states(database, route) == ["arriving", "out_for_delivery", "out_for_delivery"]
    assert {"route_id": route.route_id, "status": "in_progress"}.items() <= next(
        e.data for e in events if e.kind == "route"
    ).items()
    before = snapshot(database)
    again = client.post(url, headers=tenant.headers("driver"))
    assert again.status_code == 200
    assert again.json() == responses[0].json()
    assert snapshot(database) == before


def test_a_completed_route_cannot_start(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """Starting a finished route is a 409."""
    with database.unit_of_work() as s:
        row = s.get(Route, route.route_id)
        assert row is not None
        row.status = RouteStatus.completed
    response = client.post(f"/v1/driver/routes/{route.route_id}/start",
                           headers=tenant.headers("driver"))  # fmt: skip
    assert_problem(response, 409)


def test_arrival_and_departure_by_hand(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """Arrive sets the stop arrived and its order arriving; depart leaves it."""
    stop = route.stop_ids[1]
    arrived = client.post(f"/v1/driver/stops/{stop}/arrive", headers=tenant.headers("driver"))
    assert arrived.status_code == 200, arrived.text
    assert arrived.json()["status"] == "arrived"
    assert arrived.json()["route_id"] == route.route_id
    assert order_states(database, route)[1] == "arriving"
    left = client.post(f"/v1/driver/stops/{stop}/depart", json={"at": arrived.json()["arrived_at"]},
                       headers=tenant.headers("dispatcher"))  # fmt: skip
    assert left.status_code == 200, left.text
    assert states(database, route)[1] == "departed"


def test_another_drivers_route_and_stops_do_not_exist(
    client: TestClient,
    database: Database,
    tenant: Tenant,
    other_tenant: Tenant,
    route: BuiltRoute,
    other_driver: OtherDriver,
) -> None:
    """Another driver of the organization, or any caller of another one, gets 404, nothing
    changes; merchants get 403."""
    before = snapshot(database)
    calls = [
        ("post", f"/v1/driver/routes/{route.route_id}/start", None),
        ("post", f"/v1/driver/routes/{route.route_id}/loadout", {"barcodes": []}),
        ("post", f"/v1/driver/stops/{route.stop_ids[0]}/arrive", None),
        ("post", f"/v1/driver/stops/{route.stop_ids[0]}/depart", None),
    ]
    for method, url, body in calls:
        for headers in (other_driver.headers, other_tenant.headers("driver"),
                        other_tenant.headers("dispatcher")):  # fmt: skip
            assert_problem(client.request(method, url, json=body, headers=headers), 404)
        assert_problem(client.request(method, url, json=body, headers=tenant.headers("merchant")),
                       403)  # fmt: skip
    assert snapshot(database) == before


def test_loadout_flags_missing_extra_and_unknown_parcels(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """Scans of this route's parcels load them once each (one `loaded` entry); another
    route's parcel is extra, an unheard-of barcode unknown, neither stored."""
    codes = barcodes(client, tenant, route)
    elsewhere = client.post("/v1/orders", json=order_payload(), headers=tenant.headers("merchant"))
    extra = elsewhere.json()["parcels"][0]["barcode"]
    url = f"/v1/driver/routes/{route.route_id}/loadout"
    headers = tenant.headers("driver")
    first = client.post(url, json={"barcodes": [codes[0], extra, "NOPE0001", codes[0]]},
                        headers=headers)  # fmt: skip
    assert first.status_code == 200, first.text
    assert first.json() == {
        "route_id": route.route_id, "expected": 3, "loaded": [codes[0]],
        "newly_loaded": [codes[0]], "missing": codes[1:], "extra": [extra],
        "unknown": ["NOPE0001"], "completed_at": None,
    }  # fmt: skip
    again = client.post(url, json={"barcodes": [codes[0], codes[2]], "complete": True},
                        headers=headers)  # fmt: skip
    body = again.json()
    assert body["loaded"] == [codes[0], codes[2]]
    assert body["newly_loaded"] == [codes[2]]
    assert body["missing"] == [codes[1]]
    assert body["completed_at"] is not None
    with database.unit_of_work(readonly=True) as s:
        assert len(s.scalars(select(ParcelScan)).all()) == 2
        loaded = s.scalars(select(CustodyEntry).order_by(CustodyEntry.sequence)).all()
        assert [e.event for e in loaded] == ["loaded", "loaded"]
        assert [e.order_id for e in loaded] == [route.order_ids[0], route.order_ids[2]]
        assert loaded[0].details == {"route_id": route.route_id, "vehicle_id": route.vehicle_id}
        assert verify_ledger(s, tenant.organization_id).ok
    day = client.get(f"/v1/driver/today?date={route.starts_at.date()}", headers=headers).json()
    assert day["routes"][0]["loadout"] == {"expected": 3, "scanned": 2, "missing": [codes[1]],
                                           "completed_at": body["completed_at"]}  # fmt: skip


def test_loadout_refuses_bad_barcodes_and_finished_routes(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """A malformed barcode is a 422 naming it; a completed route's load-out is over (409)."""
    route = committed_route(client, database, tenant, STOPS[:1])
    url = f"/v1/driver/routes/{route.route_id}/loadout"
    before = snapshot(database)
    bad = client.post(url, json={"barcodes": ["ok-123", "no spaces!"]},
                      headers=tenant.headers("driver"))  # fmt: skip
    assert_problem(bad, 422, "barcodes[1]")
    assert snapshot(database) == before
    with database.unit_of_work() as s:
        row = s.get(Route, route.route_id)
        assert row is not None
        row.status = RouteStatus.completed
    assert_problem(client.post(url, json={"barcodes": []}, headers=tenant.headers("driver")), 409)

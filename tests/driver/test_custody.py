"""Staff custody scans append the parcel's entry (and close a returned order); merchants and
drivers may not scan, unknown parcels are not found, and nothing changes on a refusal."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from lastmile.db.engine import Database
from lastmile.ledger.models import CustodyEntry
from lastmile.ledger.service import verify_ledger
from tests.driver.conftest import deliver, now_iso
from tests.factories import Tenant
from tests.helpers import assert_problem, snapshot
from tests.tracking.builders import BuiltRoute


def barcode_of(client: TestClient, tenant: Tenant, order_id: str) -> str:
    order = client.get(f"/v1/orders/{order_id}", headers=tenant.headers("admin")).json()
    return str(order["parcels"][0]["barcode"])


def test_a_parcel_received_at_a_hub_is_recorded(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """The entry names the hub and the scan's time; the order does not move."""
    code = barcode_of(client, tenant, route.order_ids[0])
    at = now_iso()
    response = client.post(
        f"/v1/parcels/{code}/custody",
        json={"event": "received_at_hub", "hub_id": tenant.depot_id, "at": at},
        headers=tenant.headers("dispatcher"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["order_status"] == "dispatched"
    assert body["barcode"] == code
    with database.unit_of_work(readonly=True) as s:
        entry = s.scalars(select(CustodyEntry)).one()
        assert entry.id == body["ledger_entry_id"]
        assert entry.event == "received_at_hub"
        assert entry.details == {"hub_id": tenant.depot_id}
        assert verify_ledger(s, tenant.organization_id).ok


def test_returning_a_failed_orders_parcel_closes_the_order(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """`returned` moves a failed order to returned, with the custody entry."""
    order_id = route.order_ids[0]
    failed = deliver(client, order_id, tenant.headers("driver"), fields={"reason": "not_home"},
                     action="fail")  # fmt: skip
    assert failed.status_code == 201, failed.text
    code = barcode_of(client, tenant, order_id)
    response = client.post(f"/v1/parcels/{code}/custody", json={"event": "returned"},
                           headers=tenant.headers("admin"))  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["order_status"] == "returned"
    with database.unit_of_work(readonly=True) as s:
        events = s.scalars(select(CustodyEntry.event).order_by(CustodyEntry.sequence)).all()
    assert events == ["failed", "returned"]


def test_refused_scans_change_nothing(
    client: TestClient, database: Database, tenant: Tenant, other_tenant: Tenant,
    route: BuiltRoute,
) -> None:  # fmt: skip
    """Wrong role, unknown or foreign parcel, missing hub, a return the order cannot take."""
    code = barcode_of(client, tenant, route.order_ids[0])
    url = f"/v1/parcels/{code}/custody"
    before = snapshot(database)
    body = {"event": "collected"}
    assert_problem(client.post(url, json=body, headers=tenant.headers("merchant")), 403)
    assert_problem(client.post(url, json=body, headers=tenant.headers("driver")), 403)
    assert_problem(client.post(url, json=body, headers=other_tenant.headers("admin")), 404)
    assert_problem(client.post("/v1/parcels/NOPE0001/custody", json=body,
                               headers=tenant.headers("admin")), 404)  # fmt: skip
    staff = tenant.headers("admin")
    assert_problem(client.post(url, json={"event": "received_at_hub"}, headers=staff), 422,
                   "hub_id")  # fmt: skip
    assert_problem(client.post(url, json={"event": "received_at_hub", "hub_id": "dep_nope"},
                               headers=staff), 422, "hub_id")  # fmt: skip
    assert_problem(client.post(url, json={"event": "loaded"}, headers=staff), 422, "event")
    assert_problem(client.post(url, json={"event": "returned"}, headers=staff), 409)
    assert snapshot(database) == before

"""Proof of delivery: one multipart request delivers an order, keeps its evidence by content
hash and appends one custody entry per parcel carrying those hashes; bad evidence changes
nothing."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lastmile.db.engine import Database
from lastmile.driver.models import DeliveryProof, ProofFile
from lastmile.ledger.models import CustodyEntry
from lastmile.ledger.service import verify_ledger
from lastmile.live.channels import fleet_channel, order_channel
from lastmile.orders.models import Order, Parcel
from tests.driver.conftest import OtherDriver, deliver, image, now_iso
from tests.factories import Tenant
from tests.helpers import assert_problem, set_order, snapshot
from tests.tracking.builders import BuiltRoute
from tests.tracking.test_route_progress import collect


def entries(db: Database, order_id: str) -> list[CustodyEntry]:
    with db.unit_of_work(readonly=True) as s:
        return list(
            s.scalars(
                select(CustodyEntry)
                .where(CustodyEntry.order_id == order_id)
                .order_by(CustodyEntry.sequence)
            )
        )


def history(client: TestClient, tenant: Tenant, order_id: str) -> list[tuple[str, str]]:
    events = client.get(f"/v1/orders/{order_id}/history", headers=tenant.headers("admin")).json()
    return [(e["to_status"], e["reason"] or "") for e in events]


def test_delivery_with_photo_and_signature_is_recorded_and_chained(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """The order is delivered; the proof keeps both files by SHA-256, the parcel's `delivered`
    entry carries those hashes, and the ledger verifies."""
    order_id = route.order_ids[0]
    set_order(database, order_id, signature_required=True)
    photo, signature = image("JPEG"), image("PNG")
    response = deliver(
        client, order_id, tenant.headers("driver"),
        fields={"recipient_name": "Ana", "lat": "41.177", "lon": "-8.61", "note": "at the door"},
        files={"photo": ("p.jpg", photo, "image/jpeg"),
               "signature": ("s.png", signature, "image/png")},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/orders/{order_id}/proof"
    proof = response.json()
    photo_sha = hashlib.sha256(photo).hexdigest()
    signature_sha = hashlib.sha256(signature).hexdigest()
    assert proof["outcome"] == "delivered"
    assert proof["custody_event"] == "delivered"
    assert proof["recipient_name"] == "Ana"
    assert proof["driver_id"] == tenant.driver_id
    assert proof["photo"] == {"sha256": photo_sha, "content_type": "image/jpeg",
                              "size": len(photo), "url": f"/v1/proofs/{photo_sha}"}  # fmt: skip
    assert proof["signature"]["sha256"] == signature_sha
    read = client.get(f"/v1/orders/{order_id}", headers=tenant.headers("driver")).json()
    assert read["status"] == "delivered"

    chain = entries(database, order_id)
    assert [e.event for e in chain] == ["delivered"]
    assert chain[0].parcel_id == read["parcels"][0]["id"]
    assert chain[0].details["photo_sha256"] == photo_sha
    assert chain[0].details["signature_sha256"] == signature_sha
    assert chain[0].details["proof_id"] == proof["id"]
    assert proof["ledger_entry_ids"] == [chain[0].id]
    with database.unit_of_work(readonly=True) as s:
        assert verify_ledger(s, tenant.organization_id).ok
        stored = s.scalars(select(ProofFile).where(ProofFile.sha256 == photo_sha)).one()
        assert stored.content == photo


def test_a_dispatched_order_goes_out_for_delivery_first(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """Delivering before the route was started passes through out_for_delivery, with why."""
    order_id = route.order_ids[1]
    response = deliver(client, order_id, tenant.headers("driver"),
                       fields={"recipient_name": "Ana"})  # fmt: skip
    assert response.status_code == 201, response.text
    moves = history(client, tenant, order_id)
    assert moves[-2:] == [("out_for_delivery", "delivered before the route started"),
                          ("delivered", f"proof {response.json()['id']}")]  # fmt: skip


def test_every_parcel_of_the_order_gets_its_entry(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """An order of two parcels gets two `delivered` entries, one per parcel."""
    order_id = route.order_ids[0]
    with database.unit_of_work() as s:
        order = s.get(Order, order_id)
        assert order is not None
        first = order.parcels[0].id
        order.parcels.append(
            Parcel(id="par_second", organization_id=order.organization_id, position=1,
                   barcode=f"SECOND{order_id[-6:]}", weight_kg=1.0, volume_litres=1.0)
        )  # fmt: skip
    response = deliver(client, order_id, tenant.headers("driver"), fields={"recipient_name": "A"})
    assert response.status_code == 201, response.text
    chain = entries(database, order_id)
    assert sorted(e.parcel_id or "" for e in chain) == sorted([first, "par_second"])
    assert response.json()["ledger_entry_ids"] == [e.id for e in chain]


def test_locker_delivery_records_put_in_locker(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """A locker order needs no recipient name; its parcels are `put_in_locker`."""
    order_id = route.order_ids[0]
    set_order(database, order_id, delivery_method="locker", pickup_point_id=tenant.locker_id)
    response = deliver(client, order_id, tenant.headers("driver"))
    assert response.status_code == 201, response.text
    assert response.json()["custody_event"] == "put_in_locker"
    chain = entries(database, order_id)
    assert [e.event for e in chain] == ["put_in_locker"]
    assert chain[0].details["pickup_point_id"] == tenant.locker_id


def test_staff_may_deliver_on_the_drivers_behalf(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """A dispatcher's delivery names the order's driver, and the dispatcher as actor."""
    response = deliver(client, route.order_ids[0], tenant.headers("dispatcher"),
                       fields={"recipient_name": "Ana"})  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["driver_id"] == tenant.driver_id
    assert response.json()["actor"].startswith("user:")
    assert entries(database, route.order_ids[0])[0].actor == response.json()["actor"]


REFUSALS = [
    # name, order changes, form fields, files, status, field
    ("no recipient name", {}, {}, {}, 422, "recipient_name"),
    ("signature missing", {"signature_required": True}, {"recipient_name": "A"}, {}, 422,
     "signature"),
    ("age not checked", {"age_check": True}, {"recipient_name": "A"}, {}, 422, "age_checked"),
    ("age checked false", {"age_check": True}, {"recipient_name": "A", "age_checked": "false"},
     {}, 422, "age_checked"),
    ("safe place without photo", {"delivery_method": "safe_place", "safe_place": "porch"}, {},
     {}, 422, "photo"),
    ("photo not an image", {}, {"recipient_name": "A"},
     {"photo": ("p.jpg", b"%PDF-1.7 not a photo at all", "image/jpeg")}, 422, "photo"),
    ("signature as JPEG", {"signature_required": True}, {"recipient_name": "A"},
     {"signature": ("s.png", image("JPEG"), "image/png")}, 422, "signature"),
    ("photo too large", {}, {"recipient_name": "A"},
     {"photo": ("p.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024), "image/png")}, 413,
     "photo"),
    ("captured in the future", {}, {"recipient_name": "A",
                                    "captured_at": now_iso(timedelta(minutes=10))}, {}, 422,
     "captured_at"),
    ("captured too long ago", {}, {"recipient_name": "A",
                                   "captured_at": now_iso(timedelta(hours=-49))}, {}, 422,
     "captured_at"),
    ("captured without offset", {}, {"recipient_name": "A",
                                     "captured_at": "2031-05-04T09:00:00"}, {}, 422,
     "captured_at"),
    ("latitude out of range", {}, {"recipient_name": "A", "lat": "91"}, {}, 422, "lat"),
    ("name too long", {}, {"recipient_name": "A" * 201}, {}, 422, "recipient_name"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "fields", "files", "status", "field"),
    [pytest.param(*case[1:], id=case[0]) for case in REFUSALS],
)
def test_bad_evidence_is_refused_and_changes_nothing(
    client: TestClient,
    database: Database,
    tenant: Tenant,
    route: BuiltRoute,
    changes: dict[str, object],
    fields: dict[str, str],
    files: dict[str, tuple[str, bytes, str]],
    status: int,
    field: str,
) -> None:
    """Each missing or wrong piece of evidence is a problem naming its field; nothing is
    written (no proof, no file, no ledger entry, the order as it was)."""
    order_id = route.order_ids[0]
    if changes:
        set_order(database, order_id, **changes)
    before = snapshot(database)
    response = deliver(client, order_id, tenant.headers("driver"), fields=fields, files=files)
    assert_problem(response, status, field)
    assert snapshot(database) == before


def test_a_delivered_order_cannot_be_delivered_again(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """A second, different delivery of a delivered order is a 409 that says so."""
    order_id = route.order_ids[0]
    first = deliver(client, order_id, tenant.headers("driver"), fields={"recipient_name": "Ana"})
    assert first.status_code == 201, first.text
    before = snapshot(database)
    again = deliver(client, order_id, tenant.headers("driver"), fields={"recipient_name": "Bo"})
    body = assert_problem(again, 409)
    assert "already delivered" in body["detail"]
    assert first.json()["id"] in body["detail"]
    assert snapshot(database) == before
    failing = deliver(client, order_id, tenant.headers("driver"),
                      fields={"reason": "not_home"}, action="fail")  # fmt: skip
    assert assert_problem(failing, 409)["type"].endswith("invalid-transition")


def test_failure_needs_a_known_reason_and_a_photo_where_policy_asks(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """Unknown reasons and a damaged parcel without photo are refused; a photographed one
    fails the order with a `failed` entry carrying the reason and the photo's hash."""
    order_id = route.order_ids[0]
    headers = tenant.headers("driver")
    before = snapshot(database)
    bad = deliver(client, order_id, headers, fields={"reason": "aliens"}, action="fail")
    assert_problem(bad, 422, "reason")
    no_photo = deliver(client, order_id, headers, fields={"reason": "damaged"}, action="fail")
    assert_problem(no_photo, 422, "photo")
    assert snapshot(database) == before

    photo = image("WEBP")
    failed = deliver(client, order_id, headers, action="fail",
                     fields={"reason": "damaged", "note": "box crushed"},
                     files={"photo": ("p.webp", photo, "image/webp")})  # fmt: skip
    assert failed.status_code == 201, failed.text
    assert failed.json()["reason"] == "damaged"
    assert failed.json()["photo"]["content_type"] == "image/webp"
    chain = entries(database, order_id)
    assert [e.event for e in chain] == ["failed"]
    assert chain[0].details == {"proof_id": failed.json()["id"], "reason": "damaged",
                                "photo_sha256": hashlib.sha256(photo).hexdigest()}  # fmt: skip
    again = deliver(client, order_id, headers, fields={"reason": "not_home"}, action="fail")
    assert "already failed" in assert_problem(again, 409)["detail"]


def test_not_home_needs_no_photo(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """A reason outside the photo policy fails the order without one."""
    response = deliver(client, route.order_ids[2], tenant.headers("driver"),
                       fields={"reason": "not_home"}, action="fail")  # fmt: skip
    assert response.status_code == 201, response.text
    with database.unit_of_work(readonly=True) as s:
        order = s.get(Order, route.order_ids[2])
        assert order is not None
        assert order.status.value == "failed"
        assert s.scalars(select(DeliveryProof)).one().photo_sha256 is None


def test_the_same_photo_is_stored_once(
    client: TestClient, database: Database, tenant: Tenant, route: BuiltRoute
) -> None:
    """Two proofs with identical photo bytes share one stored file."""
    photo = image("PNG", color="blue")
    for order_id in route.order_ids[:2]:
        response = deliver(client, order_id, tenant.headers("driver"),
                           fields={"recipient_name": "A"},
                           files={"photo": ("p.png", photo, "image/png")})  # fmt: skip
        assert response.status_code == 201, response.text
    with database.unit_of_work(readonly=True) as s:
        assert len(s.scalars(select(ProofFile)).all()) == 1


def test_another_drivers_order_does_not_exist(
    client: TestClient,
    database: Database,
    tenant: Tenant,
    other_tenant: Tenant,
    route: BuiltRoute,
    other_driver: OtherDriver,
) -> None:
    """Another driver, or any caller of another organization, gets 404 for delivering or
    failing the order; a merchant 403; nothing changes."""
    order_id = route.order_ids[0]
    before = snapshot(database)
    fields = {"recipient_name": "A", "reason": "not_home"}
    for action in ("deliver", "fail"):
        for headers in (other_driver.headers, other_tenant.headers("driver"),
                        other_tenant.headers("admin")):  # fmt: skip
            assert_problem(deliver(client, order_id, headers, fields=fields, action=action), 404)
        refused = deliver(client, order_id, tenant.headers("merchant"), fields=fields,
                          action=action)  # fmt: skip
        assert_problem(refused, 403)
    assert snapshot(database) == before


def test_a_delivery_is_announced_live_once_committed(
    client: TestClient, tenant: Tenant, route: BuiltRoute
) -> None:
    """Dispatchers' fleet channel hears the status move and the proof; the customer's order
    channel hears the status."""
    order_id = route.order_ids[0]
    responses = []

    def act() -> None:
        responses.append(deliver(client, order_id, tenant.headers("driver"),
                                 fields={"recipient_name": "Ana"}))  # fmt: skip

    events = collect(client, [fleet_channel(tenant.organization_id), order_channel(order_id)], act)
    proof = responses[0].json()
    announced = [e.data for e in events if e.kind == "proof"]
    assert announced == [{"order_id": order_id, "proof_id": proof["id"], "outcome": "delivered",
                          "driver_id": tenant.driver_id,
                          "at": proof["captured_at"].replace("+00:00", "Z")}]  # fmt: skip
    statuses = [e.data["status"] for e in events if e.kind == "status"]
    assert statuses == ["out_for_delivery", "delivered"]

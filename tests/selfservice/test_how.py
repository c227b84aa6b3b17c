"""Changing how: safe place, instructions for the driver, signature and in-home delivery."""

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
from tests.selfservice.support import add_van, issue, new_order, recorded_events


@pytest.fixture
def van(client: TestClient, tenant: Tenant) -> str:
    return add_van(client, tenant)


def post(client: TestClient, token: str, action: str, body: dict[str, Any]) -> Any:
    return client.post(f"/v1/self-service/{token}/{action}", json=body)


def test_safe_place_with_a_note_and_back_to_the_door(
    client: TestClient, database: Database, tenant: Tenant, van: str
) -> None:
    """A safe place makes it a safe-place delivery with the note; null hands it over again.
    Each change is in the history, notified and announced on both channels."""
    order_id = new_order(client, tenant)
    token = issue(client, tenant, order_id)["token"]
    with recorded_events(client) as published:
        placed = post(client, token, "safe-place", {"safe_place": "porch", "note": " by the bins "})
    assert placed.status_code == 200, placed.text
    current = placed.json()["current"]
    assert (current["delivery_method"], current["safe_place"], current["safe_place_note"]) == (
        "safe_place", "porch", "by the bins",
    )  # fmt: skip
    changed = {(c, e.kind): e.data for c, e in published}
    assert changed[(order_channel(order_id), "order_changed")]["fields"] == [
        "delivery_method", "safe_place", "safe_place_note",
    ]  # fmt: skip
    assert changed[(fleet_channel(tenant.organization_id), "order_changed")]["via"] == (
        "self-service"
    )
    with database.unit_of_work(readonly=True) as session:
        notified = session.scalars(
            select(OutboxEvent.data).where(
                OutboxEvent.order_id == order_id, OutboxEvent.event == "slot_changed"
            )
        ).all()
    assert [d["change"] for d in notified] == ["safe-place"]
    door = post(client, token, "safe-place", {"safe_place": None})
    assert door.status_code == 200, door.text
    assert door.json()["current"]["delivery_method"] == "doorstep"
    assert door.json()["current"]["safe_place"] is None


def test_instructions_are_kept_trimmed_and_cleared(
    client: TestClient, database: Database, tenant: Tenant, van: str
) -> None:
    """Instructions are stored trimmed; blank or null clears them."""
    order_id = new_order(client, tenant)
    token = issue(client, tenant, order_id)["token"]
    saved = post(client, token, "instructions", {"instructions": "  Ring twice, dog is friendly "})
    assert saved.json()["current"]["instructions"] == "Ring twice, dog is friendly"
    cleared = post(client, token, "instructions", {"instructions": "   "})
    assert cleared.json()["current"]["instructions"] is None
    history = client.get(f"/v1/orders/{order_id}/history", headers=tenant.headers("dispatcher"))
    actions = [e["details"].get("action") for e in history.json()]
    assert actions.count("instructions") == 2


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("safe-place", {"safe_place": "roof"}, "safe_place"),
        ("safe-place", {"safe_place": "porch", "note": "x" * 301}, "note"),
        ("safe-place", {"safe_place": "porch", "colour": "red"}, "colour"),
        ("instructions", {"instructions": "x" * 1001}, "instructions"),
        ("instructions", {}, "instructions"),
        ("delivery-options", {}, ""),
        ("delivery-options", {"in_home": "please"}, "in_home"),
        ("window", {"slot_id": "tomorrow morning"}, "slot_id"),
        ("reschedule", {}, "slot_id"),
        ("redirect", {"pickup_point_id": 42}, "pickup_point_id"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_changes_nothing(
    client: TestClient, database: Database, tenant: Tenant, action: str, body: dict[str, Any],
    field: str,
) -> None:  # fmt: skip
    """Each malformed body answers 422 problem+json blaming its field; no row changes."""
    token = issue(client, tenant, new_order(client, tenant))["token"]
    before = snapshot(database)
    assert_problem(post(client, token, action, body), 422, *([field] if field else []))
    assert snapshot(database) == before


def test_signature_where_the_sender_allows_it(
    client: TestClient, database: Database, tenant: Tenant, van: str
) -> None:
    """A customer may ask for a signature and withdraw their own request, but not remove the
    sender's; a sender who does not offer it refuses both ways."""
    order_id = new_order(client, tenant)
    token = issue(client, tenant, order_id)["token"]
    asked = post(client, token, "delivery-options", {"signature_required": True})
    assert asked.json()["current"]["signature_required"] is True
    withdrawn = post(client, token, "delivery-options", {"signature_required": False})
    assert withdrawn.json()["current"]["signature_required"] is False

    signed = new_order(client, tenant, signature_required=True)
    signed_token = issue(client, tenant, signed)["token"]
    before = snapshot(database)
    refused = post(client, signed_token, "delivery-options", {"signature_required": False})
    assert "sender asked" in assert_problem(refused, 409)["detail"]
    assert snapshot(database) == before

    client.patch(
        f"/v1/merchants/{tenant.merchant_id}", json={"allow_signature_request": False},
        headers=tenant.headers("admin"),
    )  # fmt: skip
    view = client.get(f"/v1/self-service/{token}").json()
    assert view["allowances"] == {"signature": False, "in_home": False}
    assert_problem(post(client, token, "delivery-options", {"signature_required": True}), 409)


def test_in_home_only_where_the_sender_offers_it(
    client: TestClient, database: Database, tenant: Tenant, van: str
) -> None:
    """In-home delivery is refused by default and allowed once the merchant offers it."""
    order_id = new_order(client, tenant)
    token = issue(client, tenant, order_id)["token"]
    before = snapshot(database)
    refused = assert_problem(post(client, token, "delivery-options", {"in_home": True}), 409)
    assert "in-home" in refused["detail"]
    assert snapshot(database) == before
    allowed = client.patch(
        f"/v1/merchants/{tenant.merchant_id}", json={"allow_in_home": True},
        headers=tenant.headers("admin"),
    )  # fmt: skip
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["allow_in_home"] is True
    inside = post(client, token, "delivery-options", {"in_home": True})
    assert inside.status_code == 200, inside.text
    assert inside.json()["current"]["in_home"] is True
    with database.unit_of_work(readonly=True) as session:
        order = session.get(Order, order_id)
        assert order is not None
        assert order.delivery_method.value == "in_home"


def test_a_signed_parcel_cannot_be_left_outside(
    client: TestClient, database: Database, tenant: Tenant, van: str
) -> None:
    """Safe place and signature exclude each other, whichever comes first."""
    token = issue(client, tenant, new_order(client, tenant, signature_required=True))["token"]
    assert_problem(post(client, token, "safe-place", {"safe_place": "porch"}), 409)
    other = issue(client, tenant, new_order(client, tenant))["token"]
    assert post(client, other, "safe-place", {"safe_place": "porch"}).status_code == 200
    assert_problem(post(client, other, "delivery-options", {"signature_required": True}), 409)


def test_a_retried_change_is_made_once(
    client: TestClient, database: Database, tenant: Tenant, van: str
) -> None:
    """The same Idempotency-Key replays the first answer and changes nothing more."""
    order_id = new_order(client, tenant)
    token = issue(client, tenant, order_id)["token"]
    headers = {"Idempotency-Key": "ring-twice-1"}
    body = {"instructions": "Ring twice"}
    first = client.post(f"/v1/self-service/{token}/instructions", json=body, headers=headers)
    assert first.status_code == 200, first.text
    before = snapshot(database)
    again = client.post(f"/v1/self-service/{token}/instructions", json=body, headers=headers)
    assert (again.status_code, again.json()) == (200, first.json())
    assert snapshot(database) == before

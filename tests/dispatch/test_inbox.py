"""The exceptions inbox: each kind of problem appears, and goes once resolved or acknowledged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from lastmile.chat.models import ChatMessage, Conversation, SenderRole
from lastmile.db.engine import Database
from lastmile.feedback.models import Feedback, FollowUp, FollowUpStatus
from lastmile.kit.ids import new_id
from lastmile.orders.models import DeliveryWindow, Order
from lastmile.orders.status import OrderStatus
from lastmile.planning.models import Route, RouteStatus, RouteStop
from tests.dispatch.conftest import Day
from tests.factories import Tenant


def _inbox(client: TestClient, tenant: Tenant, **params: Any) -> dict[str, Any]:
    response = client.get(
        "/v1/dispatch/exceptions", params=params, headers=tenant.headers("dispatcher")
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _keys(client: TestClient, tenant: Tenant, kind: str) -> list[str]:
    return [i["key"] for i in _inbox(client, tenant)["items"] if i["kind"] == kind]


def _set(db: Database, model: Any, where: Any, **values: Any) -> None:
    with db.unit_of_work() as session:
        session.execute(update(model).where(where).values(**values))


def test_quiet_day_has_an_empty_inbox(client: TestClient, tenant: Tenant, day: Day) -> None:
    """Routes on time, nothing failed, nobody wrote: nothing to show, every count zero."""
    inbox = _inbox(client, tenant)
    assert inbox["items"] == []
    assert set(inbox["counts"]) == {
        "at_risk", "late", "failed", "low_rating", "unread_chat", "silent_vehicle"
    }  # fmt: skip
    assert not any(inbox["counts"].values())


def test_at_risk_stop_appears_and_goes(
    client: TestClient, database: Database, tenant: Tenant, day: Day
) -> None:
    """A stop whose ETA window ends after its promise is at risk; back on time, it is not."""
    stop = day.west.stop_ids[2]
    promised_end = day.west.starts_at + timedelta(hours=4)
    _set(database, RouteStop, RouteStop.id == stop, at_risk=True,
         eta_latest=promised_end + timedelta(minutes=20))  # fmt: skip
    items = [i for i in _inbox(client, tenant)["items"] if i["kind"] == "at_risk"]
    assert [i["key"] for i in items] == [f"at_risk:{stop}"]
    assert items[0]["order_id"] == day.west.order_ids[2]
    assert "move_stop" in items[0]["actions"]
    assert "replan_route" in items[0]["actions"]
    _set(database, RouteStop, RouteStop.id == stop, at_risk=False,
         eta_latest=promised_end - timedelta(minutes=20))  # fmt: skip
    assert _keys(client, tenant, "at_risk") == []


def test_late_stop_appears_and_goes_when_delivered(
    client: TestClient, database: Database, tenant: Tenant, day: Day
) -> None:
    """A window over with the order not delivered is late; once delivered it is not."""
    order = day.east.order_ids[0]
    past = datetime.now(UTC) - timedelta(minutes=10)
    _set(database, DeliveryWindow, DeliveryWindow.order_id == order, ends_at=past)
    items = [i for i in _inbox(client, tenant)["items"] if i["kind"] == "late"]
    assert [i["key"] for i in items] == [f"late:{day.east.stop_ids[0]}"]
    assert items[0]["severity"] == "high"
    _set(database, Order, Order.id == order, status=OrderStatus.delivered)
    assert _keys(client, tenant, "late") == []


def test_failed_order_appears_until_rescheduled(
    client: TestClient, database: Database, tenant: Tenant, day: Day
) -> None:
    """A failed order shows with reschedule among its actions, until it is rescheduled."""
    order = day.west.order_ids[0]
    _set(database, Order, Order.id == order, status=OrderStatus.failed)
    items = [i for i in _inbox(client, tenant)["items"] if i["kind"] == "failed"]
    assert [i["order_id"] for i in items] == [order]
    assert "reschedule" in items[0]["actions"]
    _set(database, Order, Order.id == order, status=OrderStatus.rescheduled)
    assert _keys(client, tenant, "failed") == []


def test_low_rating_appears_until_its_follow_up_is_resolved(
    client: TestClient, database: Database, tenant: Tenant, day: Day
) -> None:
    """An open follow-up of a low rating shows; resolved, it goes."""
    order = day.west.order_ids[0]
    with database.unit_of_work() as session:
        feedback = Feedback(
            id=new_id("fbk"), organization_id=tenant.organization_id, order_id=order,
            rating=1, order_status=OrderStatus.delivered, day=day.west.starts_at.date(),
        )  # fmt: skip
        session.add(feedback)
        session.flush()
        follow_up = FollowUp(
            id=new_id("fup"), organization_id=tenant.organization_id,
            feedback_id=feedback.id, order_id=order, status=FollowUpStatus.open,
            reason="rated 1 of 5",
        )  # fmt: skip
        session.add(follow_up)
    items = [i for i in _inbox(client, tenant)["items"] if i["kind"] == "low_rating"]
    assert [i["key"] for i in items] == [f"low_rating:{follow_up.id}"]
    assert items[0]["severity"] == "high"
    _set(database, FollowUp, FollowUp.id == follow_up.id, status=FollowUpStatus.resolved)
    assert _keys(client, tenant, "low_rating") == []


def _customer_writes(db: Database, tenant: Tenant, order_id: str) -> None:
    with db.unit_of_work() as session:
        conversation = session.scalar(select(Conversation).where(Conversation.order_id == order_id))
        if conversation is None:
            conversation = Conversation(
                id=new_id("cnv"), organization_id=tenant.organization_id, order_id=order_id
            )
            session.add(conversation)
            session.flush()
        conversation.last_seq = (conversation.last_seq or 0) + 1
        session.add(
            ChatMessage(
                id=new_id("msg"), organization_id=tenant.organization_id,
                conversation_id=conversation.id, seq=conversation.last_seq,
                sender_role=SenderRole.customer, body="Where is my parcel?",
            )
        )  # fmt: skip


def test_unread_chat_appears_until_read_and_acknowledging_hides_until_new_message(
    client: TestClient, database: Database, tenant: Tenant, day: Day
) -> None:
    """Unread customer messages show; an acknowledgement hides the item until the customer
    writes again; reading the conversation clears it."""
    order = day.east.order_ids[1]
    _customer_writes(database, tenant, order)
    key = f"unread_chat:{order}"
    assert _keys(client, tenant, "unread_chat") == [key]
    acked = client.post(
        f"/v1/dispatch/exceptions/{key}/acknowledge", json={"note": "seen"},
        headers=tenant.headers("dispatcher"),
    )  # fmt: skip
    assert acked.status_code == 200, acked.text
    assert acked.json()["acknowledged"] is True
    assert _keys(client, tenant, "unread_chat") == []
    hidden = _inbox(client, tenant, include_acknowledged="true")["items"]
    assert [(i["key"], i["acknowledged"]) for i in hidden] == [(key, True)]
    _customer_writes(database, tenant, order)
    assert _keys(client, tenant, "unread_chat") == [key]
    read = client.post(f"/v1/orders/{order}/messages/read", headers=tenant.headers("dispatcher"))
    assert read.status_code == 200, read.text
    assert _keys(client, tenant, "unread_chat") == []


def test_silent_vehicle_appears_and_goes_when_it_reports(
    client: TestClient, database: Database, tenant: Tenant, day: Day
) -> None:
    """A route under way without a fix for longer than the setting shows; a fresh fix clears
    it."""
    now = datetime.now(UTC)
    _set(database, Route, Route.id == day.east.route_id, status=RouteStatus.in_progress,
         last_fix_at=now - timedelta(minutes=25))  # fmt: skip
    items = [i for i in _inbox(client, tenant)["items"] if i["kind"] == "silent_vehicle"]
    assert [i["route_id"] for i in items] == [day.east.route_id]
    assert items[0]["vehicle_id"] == day.east.vehicle_id
    _set(database, Route, Route.id == day.east.route_id, last_fix_at=now)
    assert _keys(client, tenant, "silent_vehicle") == []


def test_acknowledging_an_unknown_or_foreign_problem_is_404(
    client: TestClient, database: Database, tenant: Tenant, other_tenant: Tenant, day: Day
) -> None:
    """Only open problems of the caller's own organization can be acknowledged."""
    _set(database, Order, Order.id == day.west.order_ids[0], status=OrderStatus.failed)
    key = f"failed:{day.west.order_ids[0]}"
    for who, wanted in ((other_tenant, key), (tenant, "failed:ord_nope"), (tenant, "bogus:x")):
        response = client.post(
            f"/v1/dispatch/exceptions/{wanted}/acknowledge", headers=who.headers("dispatcher")
        )
        assert response.status_code == 404, response.text
    ok = client.post(f"/v1/dispatch/exceptions/{key}/acknowledge",
                     headers=tenant.headers("dispatcher"))  # fmt: skip
    assert ok.status_code == 200, ok.text
    assert _keys(client, tenant, "failed") == []

"""The transactional outbox: events commit with the change that caused them, or not at all."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lastmile.db.engine import Database
from lastmile.notifications.models import OutboxEvent
from lastmile.notifications.outbox import NotificationEvent, enqueue_event
from lastmile.orders.models import Order
from tests.factories import Tenant, order_payload
from tests.notifications.helpers import create_order, events_of


class Rollback(Exception):
    pass


def test_an_event_is_not_written_when_its_transaction_rolls_back(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """enqueue_event inside a unit of work that fails leaves no outbox row behind."""
    order_id = create_order(client, tenant)
    before = len(events_of(database, order_id))

    def fail_after_enqueueing() -> None:
        with database.unit_of_work() as session:
            order = session.get_one(Order, order_id)
            enqueue_event(session, order, NotificationEvent.slot_changed, {"slot_id": "slt_x"})
            assert session.scalar(select(func.count()).select_from(OutboxEvent)) == before + 1
            raise Rollback

    with pytest.raises(Rollback):
        fail_after_enqueueing()
    assert len(events_of(database, order_id)) == before
    with database.unit_of_work() as session:
        enqueue_event(session, session.get_one(Order, order_id), NotificationEvent.slot_changed)
    assert [e.event for e in events_of(database, order_id)][-1] is NotificationEvent.slot_changed


def test_creating_an_order_queues_its_confirmation_and_a_refused_one_nothing(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """A created order has one order_confirmed event; a refused create writes none."""
    body = order_payload()
    created = client.post("/v1/orders", json=body, headers=tenant.headers("merchant"))
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    events = events_of(database, order_id)
    assert [(e.event, e.merchant_id) for e in events] == [
        (NotificationEvent.order_confirmed, tenant.merchant_id)
    ]
    duplicate = client.post("/v1/orders", json=body, headers=tenant.headers("merchant"))
    assert duplicate.status_code == 409
    with database.unit_of_work(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 1


def test_imported_orders_are_confirmed_each(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """An import of three orders queues three confirmations, one per order."""
    rows = [order_payload() for _ in range(3)]
    response = client.post("/v1/orders:import", json=rows, headers=tenant.headers("merchant"))
    assert response.status_code in (200, 201), response.text
    order_ids = response.json()["order_ids"]
    assert len(order_ids) == 3
    for order_id in order_ids:
        assert [e.event for e in events_of(database, order_id)] == [
            NotificationEvent.order_confirmed
        ]


def test_an_event_with_a_once_key_is_written_once(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """A second enqueue with the same once key (same order and kind) is a no-op."""
    order_id = create_order(client, tenant)
    for _ in range(2):
        with database.unit_of_work() as session:
            order = session.get_one(Order, order_id)
            enqueue_event(session, order, NotificationEvent.stops_away, {"stops": 3}, once="r1")
    with database.unit_of_work() as session:
        order = session.get_one(Order, order_id)
        enqueue_event(session, order, NotificationEvent.stops_away, {"stops": 2}, once="r2")
    stops_away = [e for e in events_of(database, order_id) if e.event == "stops_away"]
    assert [e.data["stops"] for e in stops_away] == [3, 2]

"""Shared steps of the notification tests."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from lastmile.db.engine import Database
from lastmile.notifications.models import NotificationDelivery, OutboxEvent
from tests.factories import Tenant, order_payload

LINK = re.compile(r"http://127\.0\.0\.1:8000/t/([A-Za-z0-9_-]+)")


def create_order(
    client: TestClient, tenant: Tenant, *, who: str = "merchant", **customer: Any
) -> str:
    """An order through the API; ``customer`` overrides the customer fields."""
    body = order_payload()
    body["customer"] = body["customer"] | customer
    response = client.post("/v1/orders", json=body, headers=tenant.headers(who))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def events_of(db: Database, order_id: str) -> list[OutboxEvent]:
    with db.unit_of_work(readonly=True) as session:
        return list(
            session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.order_id == order_id)
                # ids of one millisecond are in random order; creation times are not
                .order_by(OutboxEvent.created_at, OutboxEvent.id)
            )
        )


def deliveries_of(db: Database, order_id: str) -> list[NotificationDelivery]:
    with db.unit_of_work(readonly=True) as session:
        return list(
            session.scalars(
                select(NotificationDelivery)
                .where(NotificationDelivery.order_id == order_id)
                .order_by(NotificationDelivery.id)
            )
        )


def create_endpoint(client: TestClient, tenant: Tenant, url: str, **fields: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/webhook-endpoints", json={"url": url} | fields, headers=tenant.headers("merchant")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())

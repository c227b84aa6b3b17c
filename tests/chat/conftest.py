"""An order with a tracking link, assigned to the tenant's driver: the chat's two sides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from lastmile.db.engine import Database
from lastmile.kit.clock import utcnow
from lastmile.orders.models import OrderEvent
from tests.factories import Tenant, order_payload
from tests.helpers import set_order


@dataclass
class Thread:
    """One order's two ends: the customer's URLs (by token) and the staff's."""

    order_id: str
    token: str
    link_id: str

    @property
    def customer(self) -> str:
        return f"/v1/self-service/{self.token}/messages"

    @property
    def staff(self) -> str:
        return f"/v1/orders/{self.order_id}/messages"


def open_thread(client: httpx.Client | TestClient, db: Database, tenant: Tenant) -> Thread:
    """A new order of the tenant's merchant, assigned to its driver, with a tracking link."""
    created = client.post("/v1/orders", json=order_payload(), headers=tenant.headers("merchant"))
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    set_order(db, order_id, driver_id=tenant.driver_id)
    link = client.post(f"/v1/orders/{order_id}/tracking-links", headers=tenant.headers("merchant"))
    assert link.status_code == 201, link.text
    return Thread(order_id, link.json()["token"], link.json()["id"])


def move(client: httpx.Client | TestClient, tenant: Tenant, order_id: str, *path: str) -> None:
    """Walk the order through ``path`` of statuses as a dispatcher."""
    for status in path:
        response = client.post(
            f"/v1/orders/{order_id}/transitions",
            json={"status": status},
            headers=tenant.headers("dispatcher"),
        )
        assert response.status_code == 200, response.text


DELIVER = ("planned", "dispatched", "out_for_delivery", "delivered")


def backdate_status(db: Database, order_id: str, status: str, age: timedelta) -> None:
    """Pretend the order reached ``status`` ``age`` ago."""
    with db.unit_of_work() as session:
        session.execute(
            update(OrderEvent)
            .where(OrderEvent.order_id == order_id, OrderEvent.to_status == status)
            .values(at=utcnow() - age)
        )


@pytest.fixture
def thread(client: TestClient, database: Database, tenant: Tenant) -> Thread:
    return open_thread(client, database, tenant)

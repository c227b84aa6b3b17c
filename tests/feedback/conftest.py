"""Orders carried on a committed route, taken to an outcome, with the customer's link."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from fastapi.testclient import TestClient

from lastmile.db.engine import Database
from tests.chat.conftest import move
from tests.factories import Tenant
from tests.helpers import set_order
from tests.tracking.builders import committed_route


@dataclass
class Delivery:
    order_id: str
    token: str
    vehicle_id: str

    @property
    def feedback(self) -> str:
        return f"/v1/self-service/{self.token}/feedback"


def deliver(
    client: httpx.Client | TestClient, db: Database, tenant: Tenant, *path: str,
    zone: str | None = "centro",
) -> Delivery:  # fmt: skip
    """An order on a route of the tenant's driver, moved along ``path`` (default: delivered)."""
    route = committed_route(client, db, tenant, [(41.1496, -8.6067)])  # type: ignore[arg-type]
    order_id = route.order_ids[0]
    set_order(db, order_id, zone=zone)
    move(client, tenant, order_id, *(path or ("out_for_delivery", "delivered")))
    link = client.post(f"/v1/orders/{order_id}/tracking-links", headers=tenant.headers("merchant"))
    assert link.status_code == 201, link.text
    return Delivery(order_id, link.json()["token"], route.vehicle_id)

"""Tell the live views about a changed order once the change is committed.

The customer's page (order channel) learns which fields changed and reloads its view; the
driver app and dispatchers (fleet channel) also learn the route and stop, and which routes'
stops moved, so they can refetch them at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from lastmile.db.engine import after_commit
from lastmile.kit.clock import iso_z, utcnow
from lastmile.live.broker import Broker
from lastmile.live.channels import fleet_channel, order_channel
from lastmile.live.events import LiveEvent
from lastmile.orders.models import Order

ORDER_CHANGED = "order_changed"


def announce_change(
    session: Session, broker: Broker, order: Order, fields: Iterable[str], *, via: str,
    routes: Iterable[str] = (),
) -> None:  # fmt: skip
    """Publish ``order_changed`` on the order's and the fleet's channel after commit.

    ``via`` says where the change came from (``self-service`` or ``staff``); ``routes`` are
    the routes whose stops were edited by it.
    """
    changed = sorted(set(fields))
    at = iso_z(utcnow())
    customer: dict[str, Any] = {"order_id": order.id, "fields": changed, "at": at}
    fleet = customer | {
        "via": via,
        "status": order.status.value,
        "route_id": order.route_id,
        "stop_id": order.stop_id,
        "routes_changed": sorted(set(routes)),
    }
    items = [
        (order_channel(order.id), LiveEvent(ORDER_CHANGED, customer)),
        (fleet_channel(order.organization_id), LiveEvent(ORDER_CHANGED, fleet)),
    ]
    after_commit(session, lambda: broker.publish_many(items))

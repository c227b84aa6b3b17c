"""All SQL of the notification API, starting from the caller's scope."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from lastmile.db.repository import TenantRepository
from lastmile.notifications.models import NotificationDelivery, OutboxEvent, WebhookEndpoint


class WebhookEndpointRepository(TenantRepository[WebhookEndpoint]):
    """Merchants see their own endpoints (the scope filters on ``merchant_id``)."""

    model = WebhookEndpoint


class OutboxEventRepository(TenantRepository[OutboxEvent]):
    model = OutboxEvent

    def for_update(self, event_id: str) -> OutboxEvent | None:
        stmt = self.scoped().where(OutboxEvent.id == event_id).with_for_update()
        return self.session.scalars(stmt).first()


class DeliveryRepository(TenantRepository[NotificationDelivery]):
    model = NotificationDelivery

    def of_events(self, event_ids: Sequence[str]) -> dict[str, list[NotificationDelivery]]:
        by_event: dict[str, list[NotificationDelivery]] = defaultdict(list)
        if event_ids:
            rows = self.session.scalars(
                self.scoped()
                .where(NotificationDelivery.event_id.in_(event_ids))
                .order_by(NotificationDelivery.id)
            )
            for row in rows:
                by_event[row.event_id].append(row)
        return by_event

    def for_update(self, delivery_id: str) -> NotificationDelivery | None:
        stmt = self.scoped().where(NotificationDelivery.id == delivery_id).with_for_update()
        return self.session.scalars(stmt).first()

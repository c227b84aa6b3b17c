"""Which order changes become notification events (called inside the change's transaction)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from lastmile.config import Settings
from lastmile.kit.clock import utcnow
from lastmile.notifications.models import NotificationEvent
from lastmile.notifications.outbox import enqueue_event
from lastmile.orders.models import Order
from lastmile.orders.status import OrderStatus


def on_status(
    session: Session, order: Order, status: OrderStatus, reason: str | None, settings: Settings
) -> None:
    """Events for an order's move to ``status``."""
    if status is OrderStatus.out_for_delivery:
        # Once per delivery day: leaving a stop's geofence undelivered moves the order back to
        # out_for_delivery, which is no news to the customer.
        enqueue_event(
            session, order, NotificationEvent.out_for_delivery, once=order.service_date.isoformat()
        )
    elif status is OrderStatus.delivered:
        enqueue_event(session, order, NotificationEvent.delivered)
        delay = timedelta(minutes=settings.feedback_request_delay_minutes)
        enqueue_event(
            session,
            order,
            NotificationEvent.feedback_request,
            once="delivered",
            not_before=utcnow() + delay,
        )
    elif status is OrderStatus.failed:
        enqueue_event(session, order, NotificationEvent.failed, {"reason": reason})

"""Deleting old notifications: rendered messages carry names, addresses and links, so they are
kept only as long as someone may ask what was sent (``notification_retention_days``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.kit.clock import utcnow
from lastmile.kit.periodic import PeriodicJob
from lastmile.notifications.models import DeliveryState, NotificationDelivery, OutboxEvent

RETENTION_INTERVAL_S = 3600.0
DONE = (DeliveryState.sent, DeliveryState.dead)


def purge_notifications(session: Session, before: datetime) -> int:
    """Delete finished (sent or dead) deliveries created before ``before``, then events that
    are fanned out, as old, and left without deliveries; pending work is never touched.
    Returns the number of deliveries deleted."""
    deliveries = session.execute(
        delete(NotificationDelivery).where(
            NotificationDelivery.status.in_(DONE), NotificationDelivery.created_at < before
        )
    )
    left = select(NotificationDelivery.id).where(NotificationDelivery.event_id == OutboxEvent.id)
    session.execute(
        delete(OutboxEvent).where(
            OutboxEvent.status.in_(DONE), OutboxEvent.created_at < before, ~exists(left)
        )
    )
    return int(getattr(deliveries, "rowcount", 0) or 0)


def notification_retention_job(settings: Settings, db: Database) -> PeriodicJob:
    """A job that purges notifications past ``notification_retention_days`` every hour."""
    period = timedelta(days=settings.notification_retention_days)

    def purge() -> None:
        with db.unit_of_work() as session:
            purge_notifications(session, utcnow() - period)

    return PeriodicJob("notification-retention", RETENTION_INTERVAL_S, purge)

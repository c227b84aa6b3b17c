"""Old notifications are deleted (they hold names, addresses and links); pending work is not."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from lastmile.db.engine import Database
from lastmile.kit.clock import utcnow
from lastmile.notifications.models import DeliveryState
from lastmile.notifications.retention import purge_notifications
from lastmile.notifications.worker import NotificationWorker
from tests.factories import Tenant
from tests.notifications.helpers import create_order, deliveries_of, events_of


def test_sent_notifications_go_after_the_retention_period_pending_ones_stay(
    client: TestClient, database: Database, tenant: Tenant, worker: NotificationWorker
) -> None:
    sent = create_order(client, tenant, channels=["email", "sms"])
    assert worker.run_once().sent == 2
    pending = create_order(client, tenant, channels=["email"])  # not fanned out yet
    assert {d.status for d in deliveries_of(database, sent)} == {DeliveryState.sent}

    with database.unit_of_work() as session:  # nothing is old enough yet
        assert purge_notifications(session, utcnow() - timedelta(days=1)) == 0
    assert len(deliveries_of(database, sent)) == 2

    with database.unit_of_work() as session:
        assert purge_notifications(session, utcnow() + timedelta(seconds=1)) == 2
    assert deliveries_of(database, sent) == []
    assert events_of(database, sent) == []
    assert [e.status for e in events_of(database, pending)] == [DeliveryState.pending]

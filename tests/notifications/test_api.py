"""The staff's view of notifications: what was sent, what waits and why, tenant-scoped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.notifications.models import Channel, DeliveryState
from lastmile.notifications.worker import NotificationWorker
from tests.factories import Tenant
from tests.helpers import assert_problem
from tests.notifications.helpers import create_endpoint, create_order, deliveries_of
from tests.notifications.receivers import HttpReceiver, SmtpServer


def test_staff_see_each_event_and_its_messages(
    client: TestClient, tenant: Tenant, worker: NotificationWorker
) -> None:
    """GET /v1/notifications?order_id= lists the order's events with their deliveries."""
    order_id = create_order(client, tenant, channels=["email", "sms"])
    create_order(client, tenant)
    staff = tenant.headers("dispatcher")
    waiting = client.get(f"/v1/notifications?order_id={order_id}", headers=staff).json()
    [event] = waiting["items"]
    assert (event["event"], event["status"], event["deliveries"]) == (
        "order_confirmed",
        "pending",
        [],
    )
    worker.run_once()
    sent = client.get(f"/v1/notifications?order_id={order_id}", headers=staff).json()
    [event] = sent["items"]
    assert event["status"] == "sent"
    assert sorted((d["channel"], d["status"]) for d in event["deliveries"]) == [
        ("email", "sent"),
        ("sms", "sent"),
    ]
    every = client.get("/v1/notifications?status=sent", headers=staff).json()
    assert len(every["items"]) == 2


def test_notifications_are_staff_only_and_tenant_scoped(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    """Merchants and drivers get 403; another organization's order is unknown (404), and its
    notifications cannot be retried."""
    order_id = create_order(client, tenant)
    for who in ("merchant", "driver"):
        assert_problem(client.get("/v1/notifications", headers=tenant.headers(who)), 403)
        assert_problem(
            client.get("/v1/notifications/dead-letters", headers=tenant.headers(who)), 403
        )
    theirs = other_tenant.headers("admin")
    assert_problem(client.get(f"/v1/notifications?order_id={order_id}", headers=theirs), 404)
    assert client.get("/v1/notifications", headers=theirs).json()["items"] == []
    [event] = client.get(
        f"/v1/notifications?order_id={order_id}", headers=tenant.headers("admin")
    ).json()["items"]
    assert_problem(client.post(f"/v1/notifications/{event['id']}/retry", headers=theirs), 404)
    assert_problem(
        client.post("/v1/notifications/nev_00000000000000000000000000/retry", headers=theirs),
        404,
    )


def test_confirmations_wait_for_the_end_of_quiet_hours_but_webhooks_do_not(
    client: TestClient,
    database: Database,
    tenant: Tenant,
    settings: Settings,
    receiver: HttpReceiver,
    smtp: SmtpServer,
) -> None:
    """Inside quiet hours (organization time) a confirmation email is held until they end,
    while the merchant's webhook goes at once."""
    local_now = datetime.now(ZoneInfo("Europe/Lisbon"))
    quiet = settings.model_copy(
        update={
            "notification_quiet_start": (local_now - timedelta(hours=1)).time(),
            "notification_quiet_end": (local_now + timedelta(hours=1)).time(),
        }
    )
    create_endpoint(client, tenant, receiver.url)
    order_id = create_order(client, tenant, channels=["email"])
    report = NotificationWorker.from_settings(database, quiet).run_once()
    assert report.sent == 1
    assert len(receiver.requests) == 1
    assert smtp.messages == []
    [mail] = [d for d in deliveries_of(database, order_id) if d.channel is Channel.email]
    assert mail.status is DeliveryState.pending
    held = mail.next_attempt_at - datetime.now(UTC)
    assert timedelta(minutes=55) < held <= timedelta(hours=1)

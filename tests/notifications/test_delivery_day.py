"""Delivery-day events: status moves and route tracking raise them once each, with what the
customer needs (window, reason and next steps, one-tap options, rating link)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.fleet.models import Depot
from lastmile.notifications.models import Channel, DeliveryState, NotificationEvent
from lastmile.notifications.worker import NotificationWorker
from tests.driver.conftest import deliver, image
from tests.factories import Tenant
from tests.notifications.helpers import LINK, deliveries_of, events_of
from tests.tracking.builders import committed_route
from tests.tracking.test_route_progress import DEPOT, STOPS, Drive, path


def kinds(db: Database, order_id: str) -> list[NotificationEvent]:
    return [e.event for e in events_of(db, order_id)]


def at_depot(db: Database, tenant: Tenant) -> None:
    with db.unit_of_work() as session:
        depot = session.get_one(Depot, tenant.depot_id)
        depot.lat, depot.lon = DEPOT


def move(client: TestClient, tenant: Tenant, order_id: str, status: str, **body: str) -> None:
    response = client.post(
        f"/v1/orders/{order_id}/transitions",
        json={"status": status} | body,
        headers=tenant.headers("driver"),
    )
    assert response.status_code == 200, response.text


def test_delivered_and_failed_tell_the_customer_and_ask_for_a_rating_later(
    client: TestClient,
    database: Database,
    tenant: Tenant,
    settings: Settings,
    worker: NotificationWorker,
) -> None:
    """Out for delivery is told once per day; delivered queues a feedback request for
    feedback_request_delay_minutes later; failed carries the reason and a reschedule link."""
    start = datetime.now(UTC) - timedelta(minutes=5)
    route = committed_route(client, database, tenant, STOPS, starts_at=start, leg_s=1200)
    Drive(client, tenant, start).go([DEPOT])
    delivered, failed = route.order_ids[0], route.order_ids[1]
    move(client, tenant, delivered, "delivered")
    move(client, tenant, failed, "failed", reason="nobody home")

    assert kinds(database, delivered) == [
        NotificationEvent.order_confirmed,
        NotificationEvent.out_for_delivery,
        NotificationEvent.delivered,
        NotificationEvent.feedback_request,
    ]
    [feedback] = [e for e in events_of(database, delivered) if e.event == "feedback_request"]
    wait = feedback.next_attempt_at - feedback.created_at
    assert abs(wait - timedelta(minutes=settings.feedback_request_delay_minutes)) < timedelta(
        seconds=5
    )
    assert NotificationEvent.feedback_request not in kinds(database, failed)
    [failure] = [e for e in events_of(database, failed) if e.event == "failed"]
    assert failure.data == {"reason": "nobody home"}

    worker.run_once()
    sms = {
        d.event: d.body
        for d in deliveries_of(database, failed)
        if d.channel is Channel.sms and d.status is DeliveryState.sent
    }
    assert "nobody home" in sms[NotificationEvent.failed]
    link = LINK.search(sms[NotificationEvent.failed])
    assert link is not None
    assert link.group(0) + "#reschedule" in sms[NotificationEvent.failed]
    # The feedback request is not due yet.
    assert all(d.event != "feedback_request" for d in deliveries_of(database, delivered))
    assert feedback.status is DeliveryState.pending


def test_a_late_stop_tells_its_customer_once_with_one_tap_options(
    client: TestClient,
    database: Database,
    tenant: Tenant,
    worker: NotificationWorker,
) -> None:
    """When the ETA window leaves the promised window, the customer of that stop (only) hears
    at once, with the new window and keep / reschedule / locker / safe-place links; further
    ETA updates of the same delay do not repeat it."""
    at_depot(database, tenant)
    start = datetime.now(UTC) - timedelta(minutes=1)
    # Promised until 45 minutes after the start: the third stop, an hour in, cannot make it.
    route = committed_route(
        client, database, tenant, STOPS, starts_at=start, leg_s=1200, window_h=0.75
    )
    drive = Drive(client, tenant, start)
    drive.go([DEPOT])
    late = route.order_ids[2]
    assert kinds(database, late).count(NotificationEvent.delayed) == 1
    assert NotificationEvent.delayed not in kinds(database, route.order_ids[0])
    drive.go([DEPOT] * 3)
    drive.go(path(DEPOT, STOPS[0], 40)[:5])
    assert kinds(database, late).count(NotificationEvent.delayed) == 1

    [delayed] = [e for e in events_of(database, late) if e.event == "delayed"]
    promised_end = start + timedelta(hours=0.75)
    assert datetime.fromisoformat(delayed.data["eta_latest"]) > promised_end
    worker.run_once()
    [mail] = [
        d for d in deliveries_of(database, late) if d.event == "delayed" and d.channel == "email"
    ]
    assert mail.status is DeliveryState.sent
    assert mail.subject is not None
    assert mail.subject.startswith("A sua entrega está atrasada")
    link = LINK.search(mail.body)
    assert link is not None
    for anchor in ("#reschedule", "#locker", "#safe-place"):
        assert link.group(0) + anchor in mail.body
    assert "Manter o novo horário" in mail.body


def test_stops_away_and_arriving_are_told_once_per_order(
    client: TestClient, database: Database, tenant: Tenant, settings: Settings
) -> None:
    """Orders within notification_stops_away stops hear "N stops away" once; the one
    expected within notification_arriving_minutes hears "arriving" once."""
    at_depot(database, tenant)
    start = datetime.now(UTC) - timedelta(minutes=5)
    points = [(41.1560 + 0.0030 * i, -8.6100) for i in range(6)]
    route = committed_route(client, database, tenant, points, starts_at=start, leg_s=240)
    drive = Drive(client, tenant, start)
    drive.go([DEPOT])
    drive.go([DEPOT])
    told = {o: kinds(database, o) for o in route.order_ids}
    # The first stop is being driven to (0 before it): arriving, no "stops away".
    assert NotificationEvent.arriving in told[route.order_ids[0]]
    assert NotificationEvent.stops_away not in told[route.order_ids[0]]
    for order_id in route.order_ids[1 : settings.notification_stops_away + 1]:
        assert told[order_id].count(NotificationEvent.stops_away) == 1
    for order_id in route.order_ids[settings.notification_stops_away + 1 :]:
        assert NotificationEvent.stops_away not in told[order_id]
    stops = [e.data["stops"] for o in route.order_ids[1:4] for e in events_of(database, o)
             if e.event == "stops_away"]  # fmt: skip
    assert stops == [1, 2, 3]
    # The last stop is 20+ minutes out: no "arriving" yet.
    assert NotificationEvent.arriving not in told[route.order_ids[-1]]


def test_the_delivered_message_links_the_proof_photo(
    client: TestClient, database: Database, tenant: Tenant, worker: NotificationWorker
) -> None:
    """A delivery recorded with a photo is announced with a link that shows the customer
    that photo (the tracking token of the message authorises it)."""
    route = committed_route(client, database, tenant, STOPS)
    order_id = route.order_ids[0]
    photo = image("JPEG")
    response = deliver(
        client, order_id, tenant.headers("driver"),
        fields={"recipient_name": "Ana"}, files={"photo": ("p.jpg", photo, "image/jpeg")},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    worker.run_once()
    [mail] = [
        d
        for d in deliveries_of(database, order_id)
        if d.event == "delivered" and d.channel == "email"
    ]
    sha = hashlib.sha256(photo).hexdigest()
    found = re.search(
        rf"http://127\.0\.0\.1:8000(/v1/proofs/{sha}\?token=[A-Za-z0-9_-]+)", mail.body
    )
    assert found is not None, mail.body
    shown = client.get(found.group(1))
    assert shown.status_code == 200
    assert shown.content == photo


def test_a_failed_attempt_reports_the_drivers_reason_in_the_customers_words(
    client: TestClient, database: Database, tenant: Tenant, worker: NotificationWorker
) -> None:
    """A failure recorded in the driver app is told with its reason code translated, never
    the internal note of the status move."""
    route = committed_route(client, database, tenant, STOPS)
    order_id = route.order_ids[0]
    failed = deliver(
        client, order_id, tenant.headers("driver"), fields={"reason": "not_home"}, action="fail"
    )
    assert failed.status_code == 201, failed.text
    worker.run_once()
    [sms] = [
        d
        for d in deliveries_of(database, order_id)
        if (d.event, d.channel) == (NotificationEvent.failed, Channel.sms)
    ]
    assert "(não estava ninguém em casa)" in sms.body
    assert "prf_" not in sms.body

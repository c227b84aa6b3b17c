"""At least once: a worker process killed mid-send loses nothing. The next worker sends the
message again with the same idempotency key, and the row ends sent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.notifications.models import (
    Channel,
    DeliveryState,
    NotificationDelivery,
    OutboxEvent,
)
from tests.factories import Tenant
from tests.notifications.helpers import create_endpoint, create_order, deliveries_of
from tests.notifications.receivers import HttpReceiver, SmtpServer, wait_for

LASTMILE = Path(sys.executable).parent / "lastmile"
START_S = 60.0  # a cold interpreter importing the app on a busy machine


@contextmanager
def worker_process(database: Database, settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    """``lastmile notifications worker`` against the test database, as its own process."""
    env = os.environ | {
        "LASTMILE_ENVIRONMENT": "test",
        "LASTMILE_DATABASE_URL": database.url,
        "LASTMILE_AUTO_MIGRATE": "false",
        "LASTMILE_DATA_DIR": str(settings.data_dir),
        "LASTMILE_SECRET_KEY": settings.secret_key,
        "LASTMILE_SMTP_URL": settings.smtp_url or "",
        "LASTMILE_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
        "LASTMILE_NOTIFICATION_QUIET_START": "00:00",
        "LASTMILE_NOTIFICATION_QUIET_END": "00:00",
        "LASTMILE_NOTIFICATION_LEASE_S": "1",
        "LASTMILE_NOTIFICATION_POLL_S": "0.05",
    }
    process = subprocess.Popen([str(LASTMILE), "notifications", "worker"], env=env)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def kill_when(database: Database, settings: Settings, sending: Callable[[], bool]) -> None:
    """Start a worker and SIGKILL it once ``sending`` says the receiver holds its message."""
    with worker_process(database, settings) as first:
        wait_for(sending, "the first send", START_S)
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=30) == -signal.SIGKILL


def restart_until_sent(
    database: Database, settings: Settings, order_id: str, channel: Channel
) -> None:
    """Start a fresh worker, wait until the order's message on ``channel`` is sent, stop the
    worker cleanly (SIGTERM)."""
    with worker_process(database, settings) as second:
        wait_for(
            lambda: state(database, order_id, channel).status is DeliveryState.sent,
            "the re-send",
            START_S,
        )
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0


def state(db: Database, order_id: str, channel: Channel) -> NotificationDelivery:
    [delivery] = [d for d in deliveries_of(db, order_id) if d.channel is channel]
    return delivery


def assert_nothing_lost(db: Database) -> None:
    with db.unit_of_work(readonly=True) as session:
        events = session.scalars(select(OutboxEvent.status)).all()
        unsent = session.scalar(
            select(func.count())
            .select_from(NotificationDelivery)
            .where(NotificationDelivery.status != DeliveryState.sent)
        )
    assert events
    assert set(events) == {DeliveryState.sent}
    assert unsent == 0


def test_a_webhook_killed_mid_send_is_sent_again_with_the_same_key(
    client: TestClient,
    database: Database,
    tenant: Tenant,
    settings: Settings,
    receiver: HttpReceiver,
) -> None:
    """SIGKILL while the endpoint holds the request: the delivery stays claimed, not lost; a
    new worker re-sends it after the lease with the same Idempotency-Key and marks it sent."""
    create_endpoint(client, tenant, receiver.url)
    order_id = create_order(client, tenant, channels=["sms"])
    receiver.hold.set()
    kill_when(database, settings, lambda: len(receiver.requests) == 1)
    killed = state(database, order_id, Channel.webhook)
    assert (killed.status, killed.attempts) == (DeliveryState.pending, 1)
    assert killed.claimed_by is not None

    receiver.hold.clear()
    receiver.release.set()
    restart_until_sent(database, settings, order_id, Channel.webhook)
    first_try, again = receiver.requests
    assert again.headers["Idempotency-Key"] == first_try.headers["Idempotency-Key"]
    assert again.headers["Idempotency-Key"] == killed.idempotency_key
    assert again.body == first_try.body
    done = state(database, order_id, Channel.webhook)
    assert (done.attempts, done.claimed_by) == (2, None)
    assert_nothing_lost(database)


def test_an_email_killed_mid_send_arrives_again_with_the_same_message_id(
    client: TestClient,
    database: Database,
    tenant: Tenant,
    settings: Settings,
    smtp: SmtpServer,
) -> None:
    """SIGKILL while the mail server holds its answer to DATA: after restart the mail arrives
    again with the same Message-ID (which mail systems deduplicate on)."""
    order_id = create_order(client, tenant, channels=["email"])
    smtp.sink.hold.set()
    kill_when(database, settings, lambda: len(smtp.messages) == 1)
    assert state(database, order_id, Channel.email).status is DeliveryState.pending

    smtp.sink.hold.clear()
    smtp.sink.release.set()
    restart_until_sent(database, settings, order_id, Channel.email)
    first_mail, again = smtp.messages
    assert again["Message-ID"] == first_mail["Message-ID"]
    assert again["X-Lastmile-Idempotency-Key"] == first_mail["X-Lastmile-Idempotency-Key"]
    assert again.get_content() == first_mail.get_content()
    assert_nothing_lost(database)

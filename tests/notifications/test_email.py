"""Customer messages: real mail through SMTP, SMS in the file log, in the customer's language,
on the channels the customer chose."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.notifications.models import Channel, DeliveryState
from lastmile.notifications.worker import NotificationWorker
from tests.factories import Tenant
from tests.notifications.helpers import LINK, create_order, deliveries_of
from tests.notifications.receivers import SmtpServer


def sms_log(settings: Settings) -> list[dict[str, str]]:
    path = Path(settings.data_dir) / "sms.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_confirmation_arrives_by_mail_and_sms_in_portuguese(
    client: TestClient,
    database: Database,
    tenant: Tenant,
    worker: NotificationWorker,
    smtp: SmtpServer,
    settings: Settings,
) -> None:
    """A Portuguese customer who chose email and SMS gets both, in Portuguese, with a working
    tracking link, naming the merchant; the mail carries the delivery's idempotency key."""
    order_id = create_order(client, tenant, language="pt-PT", channels=["email", "sms"])
    report = worker.run_once()
    assert (report.fanned_out, report.sent, report.dead) == (1, 2, 0)

    [mail] = smtp.messages
    assert mail["To"] == "ana@example.org"
    assert mail["From"] == settings.smtp_from
    assert mail["Subject"].startswith("A sua encomenda Acme Deliveries merchant REF-")
    body = mail.get_content()
    assert "Olá Ana," in body
    match = LINK.search(body)
    assert match is not None
    page = client.get(f"/t/{match.group(1)}")
    assert page.status_code == 200
    assert client.get(f"/v1/tracking/{match.group(1)}").json()["order"]["id"] == order_id

    [sms] = sms_log(settings)
    assert sms["to"] == "+351912345678"
    assert "confirmada" in sms["text"]
    assert match.group(0) in sms["text"]

    deliveries = {d.channel: d for d in deliveries_of(database, order_id)}
    assert {c: d.status for c, d in deliveries.items()} == {
        Channel.email: DeliveryState.sent,
        Channel.sms: DeliveryState.sent,
    }
    assert mail["X-Lastmile-Idempotency-Key"] == deliveries[Channel.email].idempotency_key
    assert sms["idempotency_key"] == deliveries[Channel.sms].idempotency_key
    assert worker.run_once().busy is False  # nothing is sent twice


def test_an_unknown_language_falls_back_to_english(
    client: TestClient, tenant: Tenant, worker: NotificationWorker, smtp: SmtpServer
) -> None:
    """A customer whose language has no templates is written to in English."""
    create_order(client, tenant, language="de", channels=["email"])
    worker.run_once()
    [mail] = smtp.messages
    assert mail["Subject"].startswith("Your Acme Deliveries merchant order REF-")
    assert "Hello Ana," in mail.get_content()


def test_only_the_chosen_channels_are_used(
    client: TestClient,
    database: Database,
    tenant: Tenant,
    worker: NotificationWorker,
    smtp: SmtpServer,
    settings: Settings,
) -> None:
    """SMS-only customers get no mail, email-only ones no SMS; with no choice, email."""
    sms_only = create_order(client, tenant, channels=["sms"])
    email_only = create_order(client, tenant, channels=["email"], email="eva@example.org")
    no_choice = create_order(client, tenant, channels=[], email="ivo@example.org")
    worker.run_once()
    assert sorted(m["To"] for m in smtp.messages) == ["eva@example.org", "ivo@example.org"]
    assert len(sms_log(settings)) == 1
    channels = {
        order: [d.channel for d in deliveries_of(database, order)]
        for order in (sms_only, email_only, no_choice)
    }
    assert channels == {
        sms_only: [Channel.sms],
        email_only: [Channel.email],
        no_choice: [Channel.email],
    }


def test_without_a_mail_server_no_email_is_queued(
    client: TestClient, database: Database, tenant: Tenant, settings: Settings
) -> None:
    """With LASTMILE_SMTP_URL unset, email customers are not queued mail that cannot go."""
    no_mail = settings.model_copy(update={"smtp_url": None})
    order_id = create_order(client, tenant, channels=["email", "sms"])
    NotificationWorker.from_settings(database, no_mail).run_once()
    assert [(d.channel, d.status) for d in deliveries_of(database, order_id)] == [
        (Channel.sms, DeliveryState.sent)
    ]

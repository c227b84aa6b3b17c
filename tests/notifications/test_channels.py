"""Channel adapters on their own, and the worker running inside the server."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from lastmile.app import create_app
from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.notifications.channels import HttpSmsProvider, SendFailed, SmtpEmailSender
from lastmile.notifications.worker import NotificationWorker
from tests.factories import Tenant
from tests.notifications.helpers import create_order
from tests.notifications.receivers import HttpReceiver, SmtpServer, wait_for


def test_the_http_sms_adapter_posts_json_with_its_key_and_idempotency_key(
    receiver: HttpReceiver,
) -> None:
    """The gateway gets {to, text, reference} with a bearer key and the idempotency key;
    a 4xx refusal is permanent, a 5xx is worth retrying."""
    sms = HttpSmsProvider(receiver.url, "sk_test")
    sms.send(to="+351912345678", text="Olá", idempotency_key="nev_1:sms:+351912345678")
    [request] = receiver.requests
    assert request.json() == {
        "to": "+351912345678",
        "text": "Olá",
        "reference": "nev_1:sms:+351912345678",
    }
    assert request.headers["Authorization"] == "Bearer sk_test"
    assert request.headers["Idempotency-Key"] == "nev_1:sms:+351912345678"
    receiver.statuses[:] = [422, 503]
    with pytest.raises(SendFailed) as refused:
        sms.send(to="+0", text="x", idempotency_key="k")
    assert refused.value.permanent
    with pytest.raises(SendFailed) as unavailable:
        sms.send(to="+351912345678", text="x", idempotency_key="k")
    assert not unavailable.value.permanent


def test_a_mail_server_url_must_name_a_known_scheme() -> None:
    """smtp://, smtp+starttls:// and smtps:// are accepted; anything else is refused early."""
    for url in ("smtp://h:25", "smtp+starttls://u:p@h:587", "smtps://u:p@h:465"):
        SmtpEmailSender(url, "a@b.c")
    with pytest.raises(ValueError, match="LASTMILE_SMTP_URL"):
        SmtpEmailSender("http://h", "a@b.c")


def test_an_unreachable_mail_server_is_retried(
    client: TestClient, database: Database, tenant: Tenant, settings: Settings
) -> None:
    """A connection failure is a temporary error: the mail waits for its next attempt."""
    down = settings.model_copy(update={"smtp_url": "smtp://127.0.0.1:9"})
    create_order(client, tenant, channels=["email"])
    report = NotificationWorker.from_settings(database, down).run_once()
    assert (report.sent, report.retrying, report.dead) == (0, 1, 0)


def test_the_server_sends_by_itself_when_inline(
    database: Database, tenant: Tenant, settings: Settings, smtp: SmtpServer
) -> None:
    """With notifications_inline on, a created order's confirmation is mailed by the server's
    own worker thread, no pass run by hand."""
    inline = settings.model_copy(update={"notifications_inline": True, "notification_poll_s": 0.05})
    with TestClient(create_app(inline, database=database)) as client:
        create_order(client, tenant, channels=["email"])
        wait_for(lambda: len(smtp.messages) == 1, "the server's worker to mail")
    assert smtp.messages[0]["To"] == "ana@example.org"

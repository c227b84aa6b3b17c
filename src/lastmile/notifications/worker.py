"""The notification worker: fans committed outbox events out into messages and sends them,
at least once.

Each pass:

1. **fan-out** — a due event is locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's
   single writer serialises passes), its deliveries are written and it is marked sent, all in
   one transaction;
2. **claim** — due deliveries are leased to this worker (``claimed_by``/``claimed_until``) in a
   short transaction, which also counts the attempt;
3. **send** — outside any transaction; each outcome is written in its own short one: sent, or
   retried later with exponential backoff and jitter, or dead after the last attempt.

A worker killed after sending but before writing the outcome leaves its lease to expire;
another pass then sends again with the same idempotency key (Message-ID, SMS key,
``Idempotency-Key`` header), so receivers can drop the repeat and nothing is lost.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidTag
from sqlalchemy import ColumnElement, exists, or_, select, update
from sqlalchemy.orm import Session

from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.kit.clock import utcnow
from lastmile.kit.periodic import PeriodicJob
from lastmile.notifications.channels import (
    EmailSender,
    HttpWebhookSender,
    SendFailed,
    SmsProvider,
    SmtpEmailSender,
    WebhookSender,
    build_sms_provider,
)
from lastmile.notifications.endpoint_secrets import decrypt_secret
from lastmile.notifications.fanout import FanOut
from lastmile.notifications.messages import MessageTemplates
from lastmile.notifications.models import (
    Channel,
    DeliveryState,
    NotificationDelivery,
    NotificationEvent,
    OutboxEvent,
    WebhookEndpoint,
)
from lastmile.notifications.quiet import send_at
from lastmile.notifications.retry import next_try
from lastmile.organizations.models import Organization

log = logging.getLogger(__name__)

BATCH = 20
ERROR_LENGTH = 1000


@dataclass
class PassReport:
    """What one pass did (the CLI prints it; tests read it)."""

    fanned_out: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0

    @property
    def busy(self) -> bool:
        return bool(self.fanned_out or self.sent or self.retrying or self.dead)


@dataclass(frozen=True, slots=True)
class _Claim:
    """A leased delivery, copied out of its transaction for sending."""

    id: str
    event: NotificationEvent
    channel: Channel
    recipient: str
    idempotency_key: str
    subject: str | None
    body: str
    webhook_url: str | None = None
    webhook_secret: str | None = None


def message_id(idempotency_key: str, sender: str) -> str:
    """The email Message-ID of a delivery: derived from its idempotency key, so every attempt
    carries the same one."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "lastmile.invalid"
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}@{domain}>"


class NotificationWorker:
    """Sends what the outbox holds. Safe to run in several processes at once."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        email: EmailSender | None,
        sms: SmsProvider,
        webhooks: WebhookSender,
        templates: MessageTemplates | None = None,
        name: str | None = None,
        batch: int = BATCH,
    ) -> None:
        self.db = db
        self.settings = settings
        self.email = email
        self.sms = sms
        self.webhooks = webhooks
        self.fan_out = FanOut(settings, templates or MessageTemplates())
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.batch = batch

    @classmethod
    def from_settings(cls, db: Database, settings: Settings) -> NotificationWorker:
        email = (
            SmtpEmailSender(settings.smtp_url, settings.smtp_from) if settings.smtp_url else None
        )
        sms = build_sms_provider(
            settings.sms_provider,
            data_dir=settings.data_dir,
            url=settings.sms_http_url,
            key=settings.sms_http_key,
        )
        webhooks = HttpWebhookSender(
            settings.webhook_timeout_s, settings.webhook_allow_private_urls
        )
        return cls(db, settings, email=email, sms=sms, webhooks=webhooks)

    def periodic(self) -> PeriodicJob:
        """This worker as a background thread of a server process."""
        return PeriodicJob("notifications", self.settings.notification_poll_s, self.run_once)

    def run_forever(self, stop: threading.Event) -> None:
        """Pass after pass until ``stop`` is set (the CLI worker); busy passes follow at once."""
        while not stop.is_set():
            try:
                busy = self.run_once().busy
            except Exception:  # a database outage must not end the worker
                log.exception("notification pass failed")
                busy = False
            if not busy:
                stop.wait(self.settings.notification_poll_s)

    # -- one pass ---------------------------------------------------------------------------

    def run_once(self) -> PassReport:
        report = PassReport()
        if not self._anything_due(utcnow()):
            return report
        self._fan_out_due(report)
        for claim in self._claim(utcnow(), report):
            self._send(claim, report)
        return report

    def _anything_due(self, now: datetime) -> bool:
        # A read-only look first: an idle poll must not queue for SQLite's writer lock.
        with self.db.unit_of_work(readonly=True) as session:
            events = exists().where(
                OutboxEvent.status == DeliveryState.pending, OutboxEvent.next_attempt_at <= now
            )
            deliveries = exists().where(*self._due_deliveries(now))
            return bool(session.scalar(select(or_(events, deliveries))))

    @staticmethod
    def _due_deliveries(now: datetime) -> tuple[ColumnElement[bool], ...]:
        return (
            NotificationDelivery.status == DeliveryState.pending,
            NotificationDelivery.next_attempt_at <= now,
            or_(
                NotificationDelivery.claimed_until.is_(None),
                NotificationDelivery.claimed_until < now,
            ),
        )

    def _fan_out_due(self, report: PassReport) -> None:
        for _ in range(self.batch):
            now = utcnow()
            with self.db.unit_of_work() as session:
                event = session.scalars(
                    select(OutboxEvent)
                    .where(
                        OutboxEvent.status == DeliveryState.pending,
                        OutboxEvent.next_attempt_at <= now,
                    )
                    .order_by(OutboxEvent.next_attempt_at)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                ).first()
                if event is None:
                    return
                event.attempts += 1
                try:
                    with session.begin_nested():
                        self.fan_out(session, event, now)
                except Exception as exc:
                    # A bug or bad data in one event must not block the ones behind it.
                    log.exception("fan-out of %s failed", event.id)
                    dead = self._failed(event, f"{type(exc).__name__}: {exc}", now, permanent=False)
                    report.dead += dead
                    report.retrying += not dead
                    continue
                event.status, event.last_error = DeliveryState.sent, None
                report.fanned_out += 1

    def _failed(
        self,
        row: OutboxEvent | NotificationDelivery,
        reason: str,
        now: datetime,
        *,
        permanent: bool,
        later: datetime | None = None,
    ) -> bool:
        """Record a failed attempt: try again after a backoff (not before ``later``), or give
        up; True when the row is now a dead letter."""
        row.last_error = reason[:ERROR_LENGTH]
        if isinstance(row, NotificationDelivery):
            row.claimed_by = row.claimed_until = None
        retry_at = None if permanent else next_try(
            row.attempts, self.settings.notification_max_attempts,
            self.settings.notification_retry_base_s, now,
        )  # fmt: skip
        if retry_at is None:
            row.status = DeliveryState.dead
            return True
        row.next_attempt_at = max(retry_at, later or retry_at)
        return False

    def _claim(self, now: datetime, report: PassReport) -> list[_Claim]:
        lease = timedelta(seconds=self.settings.notification_lease_s)
        claims: list[_Claim] = []
        with self.db.unit_of_work() as session:
            rows = session.scalars(
                select(NotificationDelivery)
                .where(*self._due_deliveries(now))
                .order_by(NotificationDelivery.next_attempt_at)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            ).all()
            endpoints = self._endpoints(session, rows)
            for row in rows:
                if row.attempts >= self.settings.notification_max_attempts:
                    # Every attempt so far ended with its worker dying mid-send.
                    report.dead += self._failed(row, "no attempt completed", now, permanent=True)
                    continue
                row.attempts += 1
                row.claimed_by, row.claimed_until = self.name, now + lease
                claim = _Claim(
                    id=row.id, event=row.event, channel=row.channel, recipient=row.recipient,
                    idempotency_key=row.idempotency_key, subject=row.subject, body=row.body,
                )  # fmt: skip
                if row.channel is Channel.webhook:
                    target = self._webhook_target(row, endpoints.get(row.recipient))
                    if isinstance(target, str):
                        report.dead += self._failed(row, target, now, permanent=True)
                        continue
                    claim = replace(claim, webhook_url=target[0], webhook_secret=target[1])
                claims.append(claim)
        return claims

    @staticmethod
    def _endpoints(
        session: Session, rows: Sequence[NotificationDelivery]
    ) -> dict[str, WebhookEndpoint]:
        ids = {r.recipient for r in rows if r.channel is Channel.webhook}
        if not ids:
            return {}
        found = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.id.in_(ids)))
        return {e.id: e for e in found}

    def _webhook_target(
        self, row: NotificationDelivery, endpoint: WebhookEndpoint | None
    ) -> tuple[str, str] | str:
        """The endpoint's URL and secret, or why the delivery cannot go."""
        if endpoint is None or endpoint.organization_id != row.organization_id:
            return "the webhook endpoint was deleted"
        if not endpoint.active:
            return "the webhook endpoint is disabled"
        try:
            secret = decrypt_secret(
                self.settings.secret_key, endpoint.id, endpoint.secret_encrypted
            )
        except InvalidTag:
            return "the endpoint's secret cannot be read (was LASTMILE_SECRET_KEY changed?)"
        return endpoint.url, secret

    def _send(self, claim: _Claim, report: PassReport) -> None:
        try:
            self._deliver(claim)
        except SendFailed as exc:
            self._record_failure(claim, exc.reason, permanent=exc.permanent, report=report)
        except Exception as exc:  # an adapter bug: retried like any failure, and logged
            log.exception("sending %s failed", claim.id)
            self._record_failure(
                claim, f"{type(exc).__name__}: {exc}", permanent=False, report=report
            )
        else:
            with self.db.unit_of_work() as session:
                session.execute(
                    update(NotificationDelivery)
                    .where(
                        NotificationDelivery.id == claim.id,
                        NotificationDelivery.status == DeliveryState.pending,
                    )
                    .values(
                        status=DeliveryState.sent,
                        sent_at=utcnow(),
                        claimed_by=None,
                        claimed_until=None,
                        last_error=None,
                    )
                )
            report.sent += 1

    def _deliver(self, claim: _Claim) -> None:
        if claim.channel is Channel.email:
            if self.email is None:
                raise SendFailed("no mail server is configured (LASTMILE_SMTP_URL)", permanent=True)
            self.email.send(
                to=claim.recipient,
                subject=claim.subject or "",
                text=claim.body,
                message_id=message_id(claim.idempotency_key, self.settings.smtp_from),
                idempotency_key=claim.idempotency_key,
            )
        elif claim.channel is Channel.sms:
            self.sms.send(
                to=claim.recipient, text=claim.body, idempotency_key=claim.idempotency_key
            )
        else:
            assert claim.webhook_url is not None
            assert claim.webhook_secret is not None
            self.webhooks.send(
                url=claim.webhook_url,
                secret=claim.webhook_secret,
                event=claim.event.value,
                body=claim.body.encode(),
                idempotency_key=claim.idempotency_key,
            )

    def _record_failure(
        self, claim: _Claim, reason: str, *, permanent: bool, report: PassReport
    ) -> None:
        now = utcnow()
        with self.db.unit_of_work() as session:
            row = session.get(NotificationDelivery, claim.id, with_for_update=True)
            if row is None or row.status is not DeliveryState.pending:
                return
            later = None
            if row.channel is not Channel.webhook:
                tz = ZoneInfo(session.get_one(Organization, row.organization_id).timezone)
                later = send_at(
                    row.event, now, tz, self.settings.notification_quiet_start,
                    self.settings.notification_quiet_end,
                )  # fmt: skip
            dead = self._failed(row, reason, now, permanent=permanent, later=later)
            report.dead += dead
            report.retrying += not dead


def notification_job(settings: Settings, db: Database) -> PeriodicJob | None:
    """The worker as a thread of a server process, unless an external worker sends
    (``notifications_inline`` off)."""
    if not settings.notifications_in_process:
        return None
    return NotificationWorker.from_settings(db, settings).periodic()

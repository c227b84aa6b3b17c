"""Turn one outbox event into its messages: who hears about it, on which channel, in which
words. Runs in the worker's unit of work, so an event and its deliveries commit together."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from lastmile.auth.principal import Access, Principal
from lastmile.config import Settings
from lastmile.customers.models import Customer
from lastmile.driver.models import DeliveryProof, ProofOutcome
from lastmile.kit.clock import iso_z
from lastmile.kit.ids import new_id
from lastmile.notifications.messages import MessageTemplates, Rendered
from lastmile.notifications.models import (
    Channel,
    NotificationDelivery,
    NotificationEvent,
    OutboxEvent,
    WebhookEndpoint,
)
from lastmile.notifications.quiet import send_at
from lastmile.orders.models import Order
from lastmile.organizations.models import Merchant, Organization
from lastmile.tracking.links import issue_link

# How long before its event a proof may have been written and still belong to the same move.
SAME_MOVE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Recipient:
    channel: Channel
    address: str  # email, phone number or webhook endpoint id


def customer_recipients(customer: Customer, *, email_enabled: bool) -> list[Recipient]:
    """The customer's chosen channels that we can reach them on; with no choice made, email
    when we have an address, else SMS."""
    wanted = list(customer.channels or [])
    if not wanted:
        wanted = [Channel.email.value] if customer.email else [Channel.sms.value]
    out: list[Recipient] = []
    if Channel.email.value in wanted and customer.email and email_enabled:
        out.append(Recipient(Channel.email, customer.email))
    if Channel.sms.value in wanted and customer.phone:
        out.append(Recipient(Channel.sms, customer.phone))
    return out


def subscribed_endpoints(session: Session, event: OutboxEvent) -> list[WebhookEndpoint]:
    if event.merchant_id is None:
        return []
    endpoints = session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.organization_id == event.organization_id,
            WebhookEndpoint.merchant_id == event.merchant_id,
            WebhookEndpoint.active.is_(True),
        )
    )
    return [e for e in endpoints if not e.events or event.event.value in e.events]


def delivery_photo(session: Session, order_id: str) -> str | None:
    """The photo of the order's successful delivery attempt, if the driver took one (the
    proof commits with the move to delivered, so it is there when the event is fanned out)."""
    return session.scalar(
        select(DeliveryProof.photo_sha256)
        .where(
            DeliveryProof.order_id == order_id,
            DeliveryProof.outcome == ProofOutcome.delivered,
            DeliveryProof.photo_sha256.is_not(None),
        )
        .order_by(DeliveryProof.id.desc())
        .limit(1)
    )


def failure_reason(session: Session, order_id: str, at: datetime) -> str | None:
    """The reason code of the failed attempt the driver recorded with this move to failed
    (its proof is written in the same transaction, moments before the event)."""
    reason = session.scalar(
        select(DeliveryProof.reason)
        .where(
            DeliveryProof.order_id == order_id,
            DeliveryProof.outcome == ProofOutcome.failed,
            DeliveryProof.received_at <= at,
            DeliveryProof.received_at > at - SAME_MOVE,
        )
        .order_by(DeliveryProof.id.desc())
        .limit(1)
    )
    return None if reason is None else reason.value


def _instant(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def webhook_body(event: OutboxEvent, order: Order) -> str:
    """The JSON a merchant receives: the event, the order's state and the event's details."""
    window = order.windows[0] if order.windows else None
    data = {
        "order_id": order.id,
        "merchant_reference": order.merchant_reference,
        "status": order.status.value,
        "service_date": order.service_date.isoformat(),
        "window": {"start": iso_z(window.starts_at), "end": iso_z(window.ends_at)}
        if window
        else None,
    } | event.data
    payload = {
        "id": event.id,
        "type": event.event.value,
        "created_at": iso_z(event.created_at),
        "data": data,
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


class FanOut:
    """Builds an event's deliveries (settings and templates are shared by every event)."""

    def __init__(self, settings: Settings, templates: MessageTemplates) -> None:
        self.settings = settings
        self.templates = templates

    def __call__(self, session: Session, event: OutboxEvent, now: datetime) -> int:
        """Write the deliveries of ``event``; returns how many."""
        order = session.get_one(Order, event.order_id)
        rows = [
            self._delivery(event, order, Recipient(Channel.webhook, endpoint.id), None, now)
            | {"body": webhook_body(event, order), "language": "json"}
            for endpoint in subscribed_endpoints(session, event)
        ]
        customer = session.get(Customer, order.customer_id)
        recipients = (
            customer_recipients(customer, email_enabled=self.settings.smtp_url is not None)
            if customer is not None
            else []
        )
        if customer is not None and recipients:
            org = session.get_one(Organization, order.organization_id)
            tz = ZoneInfo(org.timezone)
            rendered = self._render(session, event, order, customer, org, tz)
            due = send_at(
                event.event,
                now,
                tz,
                self.settings.notification_quiet_start,
                self.settings.notification_quiet_end,
            )
            for recipient in recipients:
                text = rendered.text if recipient.channel is Channel.email else rendered.sms
                subject = rendered.subject if recipient.channel is Channel.email else None
                rows.append(
                    self._delivery(event, order, recipient, due, now)
                    | {"body": text, "subject": subject, "language": rendered.language}
                )
        session.add_all(NotificationDelivery(**row) for row in rows)
        return len(rows)

    def _delivery(
        self,
        event: OutboxEvent,
        order: Order,
        recipient: Recipient,
        due: datetime | None,
        now: datetime,
    ) -> dict[str, Any]:
        return {
            "id": new_id("ntf"),
            "organization_id": event.organization_id,
            "event_id": event.id,
            "order_id": order.id,
            "merchant_id": order.merchant_id,
            "event": event.event,
            "channel": recipient.channel,
            "recipient": recipient.address,
            "idempotency_key": f"{event.id}:{recipient.channel.value}:{recipient.address}",
            "next_attempt_at": due or now,
            "created_at": now,
        }

    def _render(
        self,
        session: Session,
        event: OutboxEvent,
        order: Order,
        customer: Customer,
        org: Organization,
        tz: ZoneInfo,
    ) -> Rendered:
        # Tokens are stored hashed, so an existing link cannot be put in a message: each event
        # gets a link of its own (its email and SMS share it).
        issued = issue_link(
            session,
            Principal(order.organization_id, Access.admin, system="notifications"),
            order.id,
            timedelta(days=self.settings.tracking_link_ttl_days),
        )
        link = f"{self.settings.base_url.rstrip('/')}/t/{issued.token}"
        merchant = session.get(Merchant, order.merchant_id) if order.merchant_id else None
        window = order.windows[0] if order.windows else None
        data = event.data
        proof = data.get("proof_sha256") or (
            delivery_photo(session, order.id)
            if event.event is NotificationEvent.delivered
            else None
        )
        reason_code = (
            failure_reason(session, order.id, event.created_at)
            if event.event is NotificationEvent.failed
            else None
        )
        context: dict[str, Any] = {
            "company": org.name,
            "merchant": merchant.name if merchant is not None else org.name,
            "customer_name": customer.name.split()[0] if customer.name.split() else "",
            "reference": order.merchant_reference or order.id,
            "link": link,
            "options": {
                "keep": link,
                "reschedule": f"{link}#reschedule",
                "locker": f"{link}#locker",
                "safe_place": f"{link}#safe-place",
            },
            "rate_link": f"{link}#rate",
            "promised_start": window.starts_at if window else None,
            "promised_end": window.ends_at if window else None,
            "eta_earliest": _instant(data.get("eta_earliest")),
            "eta_latest": _instant(data.get("eta_latest")),
            "stops": data.get("stops"),
            "minutes": data.get("minutes"),
            # A driver's coded reason reads better (and translated) than the move's note.
            "reason_code": reason_code,
            "reason": None if reason_code else data.get("reason"),
            "change": data.get("change"),
            "proof_url": (
                f"{self.settings.base_url.rstrip('/')}/v1/proofs/{proof}?token={issued.token}"
                if isinstance(proof, str)
                else None
            ),
        }
        return self.templates.render(event.event, customer.language, tz, context)

"""Business rules of the notification API: merchants' webhook endpoints, the staff's view of
what was sent, and re-driving dead letters. Never commits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from lastmile.auth.principal import Access, Principal
from lastmile.config import Settings
from lastmile.kit.clock import iso_z, utcnow
from lastmile.kit.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from lastmile.kit.ids import new_id
from lastmile.kit.pagination import Paged
from lastmile.notifications.channels import SendFailed, WebhookSender
from lastmile.notifications.endpoint_secrets import decrypt_secret, encrypt_secret, new_secret
from lastmile.notifications.models import (
    DeliveryState,
    NotificationDelivery,
    OutboxEvent,
    WebhookEndpoint,
)
from lastmile.notifications.repository import (
    DeliveryRepository,
    OutboxEventRepository,
    WebhookEndpointRepository,
)
from lastmile.notifications.schemas import (
    WebhookEndpointCreate,
    WebhookEndpointUpdate,
    WebhookTestResult,
)
from lastmile.notifications.urls import private_target
from lastmile.orders.repository import OrderRepository

SECRET_HINT_LENGTH = 10


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """What a test call needs, read in a short unit of work and used after it."""

    endpoint_id: str
    url: str
    secret: str


class WebhookEndpointService:
    def __init__(self, session: Session, principal: Principal, settings: Settings) -> None:
        self.session = session
        self.principal = principal
        self.settings = settings
        self.repo = WebhookEndpointRepository(session, principal)

    def get(self, endpoint_id: str) -> WebhookEndpoint:
        endpoint = self.repo.get(endpoint_id)
        if endpoint is None:
            raise NotFound(f"No webhook endpoint {endpoint_id!r}.")
        return endpoint

    def page(self, *, cursor: str | None, limit: int) -> Paged[WebhookEndpoint]:
        return self.repo.page(self.repo.scoped(), cursor=cursor, limit=limit)

    def _check_target(self, url: str) -> None:
        if not self.settings.webhook_allow_private_urls and private_target(url):
            raise Unprocessable(
                "url: points at a loopback or private address",
                errors=[field_error(["url"], "must be reachable on the public internet")],
            )

    def create(self, payload: WebhookEndpointCreate) -> tuple[WebhookEndpoint, str]:
        """A new endpoint and its signing secret (returned this once, stored encrypted)."""
        if self.principal.access is not Access.merchant or self.principal.merchant_id is None:
            raise Forbidden("Webhook endpoints are created with the merchant's API key.")
        self._check_target(payload.url)
        endpoint_id, secret = new_id("whe"), new_secret()
        endpoint = WebhookEndpoint(
            id=endpoint_id,
            merchant_id=self.principal.merchant_id,
            url=payload.url,
            description=payload.description,
            events=[e.value for e in payload.events],
            active=payload.active,
            secret_encrypted=encrypt_secret(self.settings.secret_key, endpoint_id, secret),
            secret_hint=secret[:SECRET_HINT_LENGTH],
        )
        return self.repo.add(endpoint), secret

    def update(self, endpoint_id: str, patch: WebhookEndpointUpdate) -> WebhookEndpoint:
        endpoint = self.get(endpoint_id)
        changes = patch.model_dump(exclude_unset=True)
        for name in ("url", "active", "events"):
            if name in changes and changes[name] is None:
                raise Unprocessable(
                    f"{name}: may not be null", errors=[field_error([name], "may not be null")]
                )
        if "url" in changes:
            self._check_target(changes["url"])
        if "events" in changes:
            changes["events"] = [e.value for e in patch.events or []]
        for name, value in changes.items():
            setattr(endpoint, name, value)
        self.session.flush()
        return endpoint

    def delete(self, endpoint_id: str) -> None:
        self.repo.delete(self.get(endpoint_id))

    def target(self, endpoint_id: str) -> WebhookTarget:
        endpoint = self.get(endpoint_id)
        secret = decrypt_secret(self.settings.secret_key, endpoint.id, endpoint.secret_encrypted)
        return WebhookTarget(endpoint.id, endpoint.url, secret)


def send_test(target: WebhookTarget, sender: WebhookSender, now: datetime) -> WebhookTestResult:
    """POST a signed ``ping`` event to the endpoint now (outside any transaction)."""
    event_id = new_id("nev")
    body = json.dumps(
        {
            "id": event_id,
            "type": "ping",
            "created_at": iso_z(now),
            "data": {"endpoint_id": target.endpoint_id},
        },
        separators=(",", ":"),
    )
    try:
        status_code = sender.send(
            url=target.url,
            secret=target.secret,
            event="ping",
            body=body.encode(),
            idempotency_key=f"{event_id}:webhook:{target.endpoint_id}",
        )
    except SendFailed as exc:
        return WebhookTestResult(delivered=False, error=exc.reason)
    return WebhookTestResult(delivered=True, status_code=status_code)


@dataclass(frozen=True, slots=True)
class EventWithDeliveries:
    event: OutboxEvent
    deliveries: list[NotificationDelivery]


class NotificationService:
    """The staff's view of the outbox: what was sent, what waits, what died."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.events = OutboxEventRepository(session, principal)
        self.deliveries = DeliveryRepository(session, principal)

    def find(
        self,
        *,
        order_id: str | None,
        status: DeliveryState | None,
        cursor: str | None,
        limit: int,
    ) -> Paged[EventWithDeliveries]:
        orders = OrderRepository(self.session, self.principal)
        if order_id is not None and orders.get(order_id) is None:
            raise NotFound(f"No order {order_id!r}.")
        paged = self.events.page(
            self.events.matching({"order_id": order_id, "status": status}),
            cursor=cursor,
            limit=limit,
        )
        return self._with_deliveries(paged)

    def _with_deliveries(self, paged: Paged[OutboxEvent]) -> Paged[EventWithDeliveries]:
        by_event = self.deliveries.of_events([e.id for e in paged.items])
        items = [EventWithDeliveries(e, by_event.get(e.id, [])) for e in paged.items]
        return Paged(items, paged.next_cursor)

    def get(self, event_id: str) -> EventWithDeliveries:
        event = self.events.get(event_id)
        if event is None:
            raise NotFound(f"No notification {event_id!r}.")
        return EventWithDeliveries(event, self.deliveries.of_events([event.id]).get(event.id, []))

    def dead_letters(self, *, cursor: str | None, limit: int) -> Paged[NotificationDelivery]:
        stmt = self.deliveries.matching({"status": DeliveryState.dead})
        return self.deliveries.page(stmt, cursor=cursor, limit=limit)

    def retry(self, notification_id: str) -> EventWithDeliveries:
        """Send a dead (or still waiting) message or event again, now, with fresh attempts.

        ``notification_id`` is a delivery (``ntf_``) or an event (``nev_``) id.
        """
        row: OutboxEvent | NotificationDelivery | None = self.deliveries.for_update(
            notification_id
        ) or self.events.for_update(notification_id)
        if row is None:
            raise NotFound(f"No notification {notification_id!r}.")
        now = utcnow()
        if row.status is DeliveryState.sent:
            raise Conflict(f"{notification_id} was sent already; there is nothing to retry.")
        if isinstance(row, NotificationDelivery):
            if row.claimed_until is not None and row.claimed_until > now:
                raise Conflict(f"{notification_id} is being sent right now.")
            row.claimed_by = row.claimed_until = None
        row.status, row.attempts, row.next_attempt_at = DeliveryState.pending, 0, now
        self.session.flush()
        event_id = row.id if isinstance(row, OutboxEvent) else row.event_id
        return self.get(event_id)

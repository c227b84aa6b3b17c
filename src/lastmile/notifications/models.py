"""Notification tables: the transactional outbox, its per-channel deliveries and merchants'
webhook endpoints."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lastmile.db.base import Base, TenantMixin, TimestampMixin, UTCDateTime, enum_type, id_column
from lastmile.kit.clock import utcnow


class NotificationEvent(enum.StrEnum):
    """Something a customer or merchant is told about."""

    order_confirmed = "order_confirmed"
    slot_booked = "slot_booked"
    slot_changed = "slot_changed"
    out_for_delivery = "out_for_delivery"
    stops_away = "stops_away"
    arriving = "arriving"
    delayed = "delayed"
    delivered = "delivered"
    failed = "failed"
    feedback_request = "feedback_request"


class Channel(enum.StrEnum):
    email = "email"
    sms = "sms"
    webhook = "webhook"


class DeliveryState(enum.StrEnum):
    """Where an outbox row stands: waiting (or retrying), done, or given up (dead letter)."""

    pending = "pending"
    sent = "sent"
    dead = "dead"


class _Retried:
    """Columns of a row the worker retries with backoff and may give up on (dead letter)."""

    status: Mapped[DeliveryState] = mapped_column(
        enum_type(DeliveryState), default=DeliveryState.pending
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(1000))


class OutboxEvent(_Retried, TenantMixin, Base):
    """One event about an order, written in the same transaction as the change behind it.

    The worker fans it out into :class:`NotificationDelivery` rows (one per channel and
    recipient) in one transaction, so the event needs no lease; ``status`` ``sent`` means
    that fan-out is done.
    """

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_due", "status", "next_attempt_at"),)

    id: Mapped[str] = id_column()
    order_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    merchant_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[NotificationEvent] = mapped_column(enum_type(NotificationEvent))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The event id, or a caller's key for events that must happen once (``stops_away`` per
    # order, ``delayed`` per delay episode): a second enqueue with it is a no-op.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationDelivery(_Retried, TenantMixin, Base):
    """One message of an event on one channel to one recipient, rendered once and kept."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (Index("ix_notification_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[str] = id_column()
    event_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("outbox_events.id", ondelete="CASCADE"), index=True
    )
    order_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    merchant_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[NotificationEvent] = mapped_column(enum_type(NotificationEvent))
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    # An email address, a phone number or a webhook endpoint id.
    recipient: Mapped[str] = mapped_column(String(320))
    # ``<event id>:<channel>:<recipient>``: sent as Message-ID, SMS key or Idempotency-Key,
    # identical on every attempt so receivers can drop repeats.
    idempotency_key: Mapped[str] = mapped_column(String(420), unique=True)
    language: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Sending happens outside any transaction, under a lease: a worker that dies mid-send
    # leaves it to expire, then another sends again with the same idempotency key.
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookEndpoint(TenantMixin, TimestampMixin, Base):
    """A merchant's URL that receives signed event callbacks."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = id_column()
    merchant_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(300))
    # Event names to send; empty means every event.
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The signing secret, encrypted with a key derived from settings.secret_key (AES-GCM):
    # signing needs the secret itself, so it cannot be stored as a hash.
    secret_encrypted: Mapped[str] = mapped_column(String(200))
    secret_hint: Mapped[str] = mapped_column(String(12))

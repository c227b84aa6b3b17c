"""Notification and webhook-endpoint schemas (API in and out)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lastmile.notifications.models import Channel, DeliveryState, NotificationEvent
from lastmile.notifications.urls import url_shape_problem


def _checked_url(url: str | None) -> str | None:
    problem = None if url is None else url_shape_problem(url)
    if problem:
        raise ValueError(problem)
    return url


def _unique(events: list[NotificationEvent] | None) -> list[NotificationEvent] | None:
    return None if events is None else sorted(set(events))


class WebhookEndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, description="Where events are POSTed.")
    description: str | None = Field(default=None, max_length=300)
    events: list[NotificationEvent] = Field(
        default_factory=list, max_length=20, description="Events to send; empty = all."
    )
    active: bool = True

    _url = field_validator("url")(_checked_url)
    _events = field_validator("events")(_unique)


class WebhookEndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=1, max_length=2000)
    description: str | None = Field(default=None, max_length=300)
    events: list[NotificationEvent] | None = Field(default=None, max_length=20)
    active: bool | None = None

    _url = field_validator("url")(_checked_url)
    _events = field_validator("events")(_unique)


class WebhookEndpointRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    merchant_id: str
    url: str
    description: str | None
    events: list[NotificationEvent]
    active: bool
    secret_hint: str = Field(description="The start of the signing secret, to tell them apart.")
    created_at: datetime
    updated_at: datetime


class WebhookEndpointCreated(WebhookEndpointRead):
    secret: str = Field(
        description="Shown once: verify each request's Lastmile-Signature with it "
        "(docs/notifications.md)."
    )


class WebhookTestResult(BaseModel):
    delivered: bool = Field(description="Whether the endpoint answered 2xx.")
    status_code: int | None = None
    error: str | None = None


class DeliveryRead(BaseModel):
    """One message of an event on one channel."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    event_id: str
    order_id: str
    event: NotificationEvent
    channel: Channel
    recipient: str = Field(description="Email address, phone number or webhook endpoint id.")
    status: DeliveryState
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
    idempotency_key: str
    language: str
    subject: str | None
    created_at: datetime


class NotificationEventRead(BaseModel):
    """An outbox event: something a customer or merchant is told about."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str
    event: NotificationEvent
    status: DeliveryState = Field(description="sent: its messages are written (see deliveries).")
    data: dict[str, Any]
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime


class NotificationRead(NotificationEventRead):
    """An outbox event and the messages it became."""

    deliveries: list[DeliveryRead]

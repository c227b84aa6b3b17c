"""The transactional outbox: record a notification event in the caller's own transaction.

Callers (order moves, the tracking processor, self-service) call :func:`enqueue_event` beside
the change that caused the event; if their transaction rolls back, the event never existed.
The worker (``notifications/worker.py``) sends what was committed, at least once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from lastmile.kit.clock import utcnow
from lastmile.kit.ids import new_id
from lastmile.notifications.models import NotificationEvent, OutboxEvent
from lastmile.orders.models import Order

__all__ = ["NotificationEvent", "enqueue_event", "enqueue_for_rows", "once_key"]


def once_key(order_id: str, event: NotificationEvent, once: str) -> str:
    """The idempotency key of an event written with ``once``."""
    return f"{order_id}:{event.value}:{once}"


def enqueue_event(
    session: Session,
    order: Order,
    event: NotificationEvent,
    data: dict[str, Any] | None = None,
    *,
    once: str | None = None,
    not_before: datetime | None = None,
) -> None:
    """Write an outbox row for ``event`` about ``order`` in the session's transaction.

    Parameters
    ----------
    session
        The caller's unit of work; nothing is committed here.
    order
        The order the event is about (its organization and merchant scope the row).
    event
        What happened.
    data
        JSON-serialisable details for the messages and the merchant's webhook (e.g.
        ``reason``, ``eta_earliest``/``eta_latest`` as ISO 8601, ``stops``, ``minutes``,
        ``proof_sha256``).
    once
        A key unique to this occurrence (e.g. the service date for ``out_for_delivery``): when
        an event with the same order, kind and key was already written, nothing happens.
    not_before
        Send no earlier than this (e.g. the feedback request some time after delivery).
    """
    event_id = new_id("nev")
    key = once_key(order.id, event, once) if once is not None else event_id
    if once is not None and session.scalar(
        select(OutboxEvent.id).where(OutboxEvent.idempotency_key == key)
    ):
        return
    session.add(
        OutboxEvent(
            id=event_id,
            organization_id=order.organization_id,
            order_id=order.id,
            merchant_id=order.merchant_id,
            event=event,
            data=dict(data or {}),
            idempotency_key=key,
            next_attempt_at=not_before or utcnow(),
        )
    )
    session.flush()


def enqueue_for_rows(
    session: Session, event: NotificationEvent, orders: Sequence[Mapping[str, Any]]
) -> None:
    """:func:`enqueue_event` for a batch of order rows just inserted (``id``,
    ``organization_id``, ``merchant_id``), in one multi-row INSERT."""
    if not orders:
        return
    now = utcnow()
    rows = []
    for order in orders:
        event_id = new_id("nev")
        rows.append(
            {
                "id": event_id,
                "organization_id": order["organization_id"],
                "order_id": order["id"],
                "merchant_id": order.get("merchant_id"),
                "event": event,
                "data": {},
                "idempotency_key": event_id,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    session.execute(insert(OutboxEvent), rows)

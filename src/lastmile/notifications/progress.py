"""Delivery-day events from route tracking: N stops away, arriving in M minutes, delayed.

Called by the tracking processor after each pass that refreshed a route's ETAs, inside its
unit of work, so the events commit with the stop states they describe.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lastmile.config import Settings
from lastmile.kit.clock import iso_z
from lastmile.notifications.models import NotificationEvent, OutboxEvent
from lastmile.notifications.outbox import enqueue_event, once_key
from lastmile.orders.models import Order
from lastmile.orders.status import OrderStatus
from lastmile.planning.models import RouteStop, StopStatus
from lastmile.tracking.view import stops_before

ON_THE_WAY = frozenset({OrderStatus.out_for_delivery, OrderStatus.arriving})
OPEN_STOP = frozenset({StopStatus.pending, StopStatus.arriving})


def on_route_progress(
    session: Session,
    settings: Settings,
    stops: Sequence[RouteStop],
    orders: Mapping[str, Order],
    now: datetime,
    late_stops: Collection[str],
) -> None:
    """Enqueue what the customers of a route's open stops should hear after a tracker pass.

    ``late_stops`` are the stops whose ETA window has just left their promise (the tracker
    reports that once per episode, with hysteresis), so ``delayed`` goes once per episode;
    ``stops_away`` and ``arriving`` go once per order and route.
    """
    candidates: list[tuple[Order, NotificationEvent, str, dict[str, Any]]] = []
    for stop in stops:
        if stop.kind != "stop" or stop.status not in OPEN_STOP or stop.eta_expected is None:
            continue
        before = stops_before(stops, stop)
        eta: dict[str, Any] = {
            "eta_earliest": iso_z(stop.eta_earliest or stop.eta_expected),
            "eta_latest": iso_z(stop.eta_latest or stop.eta_expected),
        }
        minutes_left = (stop.eta_expected - now).total_seconds() / 60
        for order_id in stop.order_ids:
            order = orders.get(order_id)
            if order is None or order.status not in ON_THE_WAY:
                continue
            if stop.id in late_stops and _late_for(order, stop):
                episode = f"{stop.route_id}:{int(now.timestamp())}"
                candidates.append((order, NotificationEvent.delayed, episode, eta))
            if 1 <= before <= settings.notification_stops_away:
                data = eta | {"stops": before}
                candidates.append((order, NotificationEvent.stops_away, stop.route_id, data))
            if minutes_left <= settings.notification_arriving_minutes:
                data = eta | {"minutes": max(1, round(minutes_left))}
                candidates.append((order, NotificationEvent.arriving, stop.route_id, data))
    if not candidates:
        return
    # One read for the pass: most candidates were told already on an earlier pass.
    keys = {once_key(order.id, event, once) for order, event, once, _ in candidates}
    told = set(
        session.scalars(
            select(OutboxEvent.idempotency_key).where(OutboxEvent.idempotency_key.in_(keys))
        )
    )
    for order, event, once, details in candidates:
        if once_key(order.id, event, once) not in told:
            enqueue_event(session, order, event, details, once=once)


def _late_for(order: Order, stop: RouteStop) -> bool:
    """Whether the stop's latest ETA misses this order's promised window (its first choice)."""
    if not order.windows or stop.eta_latest is None:
        return False
    return stop.eta_latest > order.windows[0].ends_at

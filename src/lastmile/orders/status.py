"""The order status state machine (pure)."""

from __future__ import annotations

import enum


class OrderStatus(enum.StrEnum):
    created = "created"
    planned = "planned"
    dispatched = "dispatched"
    out_for_delivery = "out_for_delivery"
    arriving = "arriving"
    delivered = "delivered"
    failed = "failed"
    rescheduled = "rescheduled"
    returned = "returned"
    cancelled = "cancelled"


S = OrderStatus

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    # planned -> created: the order was taken out of a plan before dispatch (re-planning).
    S.created: frozenset({S.planned, S.cancelled}),
    S.planned: frozenset({S.dispatched, S.created, S.cancelled}),
    S.dispatched: frozenset({S.out_for_delivery, S.planned}),
    # out_for_delivery -> failed covers attempts given up before reaching the door.
    S.out_for_delivery: frozenset({S.arriving, S.delivered, S.failed}),
    # arriving -> out_for_delivery: the driver left the stop's geofence without delivering.
    S.arriving: frozenset({S.delivered, S.failed, S.out_for_delivery}),
    S.failed: frozenset({S.rescheduled, S.returned}),
    S.rescheduled: frozenset({S.planned, S.returned, S.cancelled}),
    S.delivered: frozenset(),
    S.returned: frozenset(),
    S.cancelled: frozenset(),
}

# How a status reads to a customer (tracking page timeline, live events, messages).
STATUS_LABELS = {
    S.created: "Order received",
    S.planned: "Delivery scheduled",
    S.dispatched: "Assigned to a driver",
    S.out_for_delivery: "Out for delivery",
    S.arriving: "Driver arriving",
    S.delivered: "Delivered",
    S.failed: "Delivery attempt failed",
    S.rescheduled: "Rescheduled",
    S.returned: "Returned to sender",
    S.cancelled: "Cancelled",
}


TERMINAL = frozenset(s for s, nexts in TRANSITIONS.items() if not nexts)


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    """Whether an order in ``current`` may move to ``target``."""
    return target in TRANSITIONS[current]

"""Order lifecycle: create, change, move through statuses, list and read history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from lastmile.auth.principal import Access, Principal
from lastmile.db.engine import after_commit
from lastmile.fleet.repository import PickupPointRepository
from lastmile.kit.clock import iso_z, utcnow
from lastmile.kit.errors import (
    Conflict,
    Forbidden,
    InvalidTransition,
    NotFound,
    Unprocessable,
    field_error,
)
from lastmile.kit.ids import new_id
from lastmile.kit.pagination import Paged
from lastmile.live.channels import fleet_channel, order_channel
from lastmile.live.events import LiveEvent
from lastmile.notifications import triggers
from lastmile.notifications.outbox import NotificationEvent, enqueue_for_rows
from lastmile.orders.announce import announce_change
from lastmile.orders.intake import IntakeContext, check_orders, insert_rows
from lastmile.orders.models import (
    DeliveryMethod,
    DeliveryWindow,
    Order,
    OrderEvent,
    ServiceLevel,
)
from lastmile.orders.repository import OrderRepository
from lastmile.orders.schemas import PICKUP_METHODS, OrderCreate, OrderUpdate
from lastmile.orders.status import STATUS_LABELS, TRANSITIONS, OrderStatus, can_transition
from lastmile.organizations.repository import get_organization
from lastmile.selfservice.pickup import PickupPoints
from lastmile.services import Services
from lastmile.slots.repository import SlotBookingRepository

# What a driver may do to an order assigned to them.
DRIVER_TRANSITIONS = frozenset(
    {OrderStatus.out_for_delivery, OrderStatus.arriving, OrderStatus.delivered, OrderStatus.failed}
)
# Changes that alter what the plan must do; a planned order goes back to be re-planned.
PLAN_FIELDS = frozenset({"windows", "delivery_method", "pickup_point_id"})
EDITABLE = frozenset({OrderStatus.created, OrderStatus.planned, OrderStatus.rescheduled})
# Instructions and safe place stay safe to change until the parcel is handed over.
LATE_EDITABLE_FIELDS = frozenset({"instructions", "safe_place", "safe_place_note"})


@dataclass(frozen=True)
class OrderFilters:
    status: OrderStatus | None = None
    service_date: date | None = None
    zone: str | None = None
    driver_id: str | None = None
    merchant_id: str | None = None


class OrderService:
    """Business rules for orders. Never commits: the caller's unit of work does."""

    def __init__(self, session: Session, principal: Principal, services: Services) -> None:
        self.session = session
        self.principal = principal
        self.services = services
        self.repo = OrderRepository(session, principal)

    def intake_context(self) -> IntakeContext:
        org = get_organization(self.session, self.principal.organization_id)
        return IntakeContext(
            session=self.session,
            principal=self.principal,
            geocoder=self.services.geocoder,
            timezone=ZoneInfo(org.timezone),
            now=utcnow(),
        )

    def get(self, order_id: str) -> Order:
        order = self.repo.get(order_id)
        if order is None:
            raise NotFound(f"No order {order_id!r}.")
        return order

    def create(self, payload: OrderCreate) -> Order:
        intake = check_orders(self.intake_context(), [(None, payload)])
        if intake.errors:
            cls = Conflict if intake.has_duplicates else Unprocessable
            raise cls(
                "; ".join(f"{e.field}: {e.message}" for e in intake.errors), errors=intake.errors
            )
        insert_rows(self.session, intake)
        enqueue_for_rows(self.session, NotificationEvent.order_confirmed, intake.rows[Order])
        return self.get(intake.order_ids[0])

    def find(self, filters: OrderFilters, *, cursor: str | None, limit: int) -> Paged[Order]:
        return self.repo.page(self.repo.matching(vars(filters)), cursor=cursor, limit=limit)

    def history(self, order_id: str) -> list[OrderEvent]:
        return self.repo.events(self.get(order_id).id)

    def update(self, order_id: str, patch: OrderUpdate) -> Order:
        order = self.get(order_id)
        if self.principal.access is Access.driver:
            raise Forbidden("Drivers cannot change orders.")
        changes = patch.model_dump(exclude_unset=True)
        late_ok = order.status not in (
            OrderStatus.delivered,
            OrderStatus.returned,
            OrderStatus.cancelled,
        )
        for name in changes:
            allowed = EDITABLE if name not in LATE_EDITABLE_FIELDS else None
            if (allowed is not None and order.status not in allowed) or not late_ok:
                raise Conflict(f"{name} cannot change once the order is {order.status.value}.")
        self._check_method(order, changes)
        self._check_rules(order, changes)
        self._check_pickup_room(order, changes)
        windows = changes.pop("windows", None)
        for name, value in changes.items():
            setattr(order, name, value)
        if windows is not None:
            order.windows = [
                DeliveryWindow(
                    id=new_id("win"),
                    organization_id=order.organization_id,
                    position=i,
                    starts_at=w["start"],
                    ends_at=w["end"],
                )
                for i, w in enumerate(windows)
            ]
        replan = order.status is OrderStatus.planned and PLAN_FIELDS & set(patch.model_fields_set)
        self.record_change(order, patch.model_fields_set)
        announce_change(self.session, self.services.broker, order, patch.model_fields_set,
                        via="staff")  # fmt: skip
        if replan:
            self._move(order, OrderStatus.created, "changed after planning; needs re-planning")
        self.session.flush()
        return order

    def dispatch(
        self, order: Order, *, route_id: str, stop_id: str, driver_id: str | None,
        vehicle_id: str, reason: str,
    ) -> None:  # fmt: skip
        """Put an order on a committed route: planned, then dispatched to its driver."""
        if order.status is not OrderStatus.planned:
            self._move(order, OrderStatus.planned, reason)
        self._move(order, OrderStatus.dispatched, reason)
        order.route_id, order.stop_id = route_id, stop_id
        order.driver_id, order.vehicle_id = driver_id, vehicle_id

    def _check_rules(self, order: Order, changes: dict[str, Any]) -> None:
        """The rules a new order must meet hold for the changed order too."""
        method = changes.get("delivery_method", order.delivery_method)
        safe_place = changes.get("safe_place", order.safe_place)
        if method is DeliveryMethod.safe_place and safe_place is None:
            raise Unprocessable(
                "safe_place delivery needs a safe_place",
                errors=[field_error(["safe_place"], "required for safe_place delivery")],
            )
        windows = changes.get("windows")
        if windows is None:
            return
        if not windows and order.service_level is ServiceLevel.scheduled:
            raise Unprocessable(
                "scheduled delivery needs at least one window",
                errors=[field_error(["windows"], "at least one window for scheduled delivery")],
            )
        now = utcnow()
        over = [
            field_error(["windows", i, "end"], "the window is already over")
            for i, window in enumerate(windows)
            if window["end"] <= now
        ]
        if over:
            raise Unprocessable("; ".join(f"{e.field}: {e.message}" for e in over), errors=over)

    def _check_pickup_room(self, order: Order, changes: dict[str, Any]) -> None:
        """A newly chosen locker or pick-up point needs a free compartment that day and must be
        open in the window: the rule customers meet on their tracking link too."""
        point_id = changes.get("pickup_point_id")
        if point_id is None or point_id == order.pickup_point_id:
            return
        windows = changes.get("windows")
        when: tuple[datetime, datetime] | None
        if windows:
            when = (windows[0]["start"], windows[0]["end"])
        else:
            first = min(order.windows, key=lambda w: w.starts_at) if order.windows else None
            when = (first.starts_at, first.ends_at) if first else None
        timezone = ZoneInfo(get_organization(self.session, self.principal.organization_id).timezone)
        PickupPoints(self.session, self.principal, timezone).reserve(
            point_id, order.service_date, when, order_id=order.id
        )

    def _check_method(self, order: Order, changes: dict[str, Any]) -> None:
        method = changes.get("delivery_method", order.delivery_method)
        point_id = changes.get("pickup_point_id", order.pickup_point_id)
        if method not in PICKUP_METHODS:
            if "pickup_point_id" in changes and point_id is not None:
                raise Unprocessable(
                    "pickup_point_id is only for locker and pickup_point",
                    errors=[field_error(["pickup_point_id"], "not allowed")],
                )
            changes["pickup_point_id"] = None
            return
        point = PickupPointRepository(self.session, self.principal).get(point_id or "")
        if point is None or not point.active or point.kind.value != method.value:
            raise Unprocessable(
                f"{method.value} delivery needs an active {method.value} in pickup_point_id",
                errors=[field_error(["pickup_point_id"], "missing, unknown or of another kind")],
            )

    def transition(self, order_id: str, target: OrderStatus, reason: str | None) -> Order:
        order = self.get(order_id)
        if self.principal.access is Access.merchant and target is not OrderStatus.cancelled:
            raise Forbidden("Merchants may only cancel orders.")
        if self.principal.access is Access.driver and target not in DRIVER_TRANSITIONS:
            raise Forbidden(f"Drivers cannot set {target.value}.")
        self._move(order, target, reason)
        self.session.flush()
        return order

    def follow(self, order: Order, target: OrderStatus, reason: str) -> bool:
        """Move ``order`` to ``target`` if its state machine allows it now, else leave it.

        For automatic moves (geofences, route start) that may find the order already
        further along, e.g. delivered by hand before the geofence fired.
        """
        if order.status is target or not can_transition(order.status, target):
            return False
        self._move(order, target, reason)
        return True

    def next_attempt(self, order: Order, reason: str) -> None:
        """After a failed attempt: rescheduled, off its route, back in the planning pool (the
        visited stop stays on its route as it happened)."""
        self._move(order, OrderStatus.rescheduled, reason)
        order.route_id = order.stop_id = order.driver_id = order.vehicle_id = None

    def _move(self, order: Order, target: OrderStatus, reason: str | None) -> None:
        current = order.status
        if not can_transition(current, target):
            allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none"
            raise InvalidTransition(
                f"An order cannot go from {current.value} to {target.value} "
                f"(allowed from {current.value}: {allowed})."
            )
        now = utcnow()
        if not self.repo.compare_and_set_status(
            order, current, {"status": target, "updated_at": now}
        ):
            raise Conflict("The order changed meanwhile; read it again and retry.")
        self._record(order, current, target.value, {}, reason=reason, to_status=target)
        if target in (OrderStatus.cancelled, OrderStatus.returned):
            # The slot place goes back to other customers.
            SlotBookingRepository(self.session, self.principal).release(order.id)
        self._announce(order, target, now)
        triggers.on_status(self.session, order, target, reason, self.services.settings)

    def _announce(self, order: Order, status: OrderStatus, at: datetime) -> None:
        """Tell the order's live views about a status move once it is committed."""
        data = {
            "order_id": order.id,
            "status": status.value,
            "at": iso_z(at),
            "label": STATUS_LABELS[status],
        }
        event = LiveEvent("status", data)
        items = [(order_channel(order.id), event),
                 (fleet_channel(order.organization_id), LiveEvent("order", data))]  # fmt: skip
        broker = self.services.broker
        after_commit(self.session, lambda: broker.publish_many(items))

    def record_change(self, order: Order, fields: Iterable[str], **details: Any) -> None:
        """Append a "changed" entry naming ``fields`` to the order's history (no status move)."""
        self._record(order, None, "changed", {"fields": sorted(fields)} | details)

    def _record(
        self,
        order: Order,
        from_status: OrderStatus | None,
        what: str,
        details: dict[str, Any],
        *,
        reason: str | None = None,
        to_status: OrderStatus | None = None,
    ) -> None:
        self.session.add(
            OrderEvent(
                id=new_id("evt"),
                organization_id=order.organization_id,
                order_id=order.id,
                at=utcnow(),
                from_status=from_status,
                to_status=to_status or order.status,
                actor=self.principal.actor,
                reason=reason,
                details={"event": what} | details,
            )
        )

"""Changing when, where and how an order is delivered, against the committed plan.

Every change follows the same steps in the caller's transaction: the cut-off (``policy``), the
check against the plan (a new stop must fit into a route: ``slots`` insertion; a slot must have
room: ``SlotService.book``; a locker a free compartment: ``pickup``), the change itself with
the route edited to match (``replan``), an entry in the order's history, the customer
notification and the live ``order_changed`` event. Any refusal raises before the unit of work
commits, so a refused change leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from lastmile.auth.principal import Principal
from lastmile.fleet.models import Driver, PickupPoint
from lastmile.kit.clock import iso_z, utcnow
from lastmile.kit.errors import Conflict, Unprocessable, field_error
from lastmile.notifications.outbox import NotificationEvent, enqueue_event
from lastmile.orders.announce import announce_change
from lastmile.orders.models import DeliveryMethod, Order, SafePlace
from lastmile.orders.schemas import PICKUP_METHODS
from lastmile.orders.service import OrderService
from lastmile.orders.status import OrderStatus
from lastmile.organizations.models import Merchant
from lastmile.planning.assemble import local_midnight
from lastmile.planning.models import Route, RouteStatus, RouteStop
from lastmile.selfservice.pickup import PickupPoints
from lastmile.selfservice.policy import Action, Progress, verdict
from lastmile.selfservice.replan import RouteEdit, at_place, place_stop, route_of
from lastmile.services import Services
from lastmile.slots.policy import parse_slot_id
from lastmile.slots.service import SlotService, handling_seconds
from lastmile.tracking.view import driver_visible, route_context

SELF_SERVICE = "self-service"


class CutOff(Conflict):
    slug, title = "cut-off", "Too late to change"


class NoRoom(Conflict):
    slug, title = "no-room", "No room in the plan"


@dataclass(frozen=True, slots=True)
class Allowance:
    """What the order's sender lets its customers ask for (defaults without a merchant)."""

    signature: bool = True
    in_home: bool = False


class DeliveryChanges:
    """The delivery changes a customer may make. Never commits: the caller's unit of work does."""

    def __init__(self, session: Session, principal: Principal, services: Services) -> None:
        self.session = session
        self.services = services
        self.orders = OrderService(session, principal, services)
        self.slots = SlotService(session, principal, services)
        self.timezone = self.slots.tz
        self.points = PickupPoints(session, principal, self.timezone)

    # --- reading ---------------------------------------------------------------------------

    def progress(self, order: Order) -> Progress:
        """Where the delivery stands; the driver heads here from the moment the customer may
        see them on the map."""
        context = route_context(self.session, order)
        heading = context is not None and driver_visible(*context, order)
        return Progress(order.status, heading)

    def allowance(self, order: Order) -> Allowance:
        merchant = self.session.get(Merchant, order.merchant_id) if order.merchant_id else None
        if merchant is None:
            return Allowance()
        return Allowance(merchant.allow_signature_request, merchant.allow_in_home)

    def window_of(self, order: Order) -> tuple[datetime, datetime] | None:
        """The promised window (the first choice), if any."""
        if not order.windows:
            return None
        first = min(order.windows, key=lambda w: w.position)
        return first.starts_at, first.ends_at

    def today(self) -> date:
        return utcnow().astimezone(self.timezone).date()

    def _require(self, order: Order, action: Action) -> None:
        decided = verdict(self.progress(order), action)
        if not decided.allowed:
            raise CutOff(decided.reason or "This can no longer change.")

    # --- when ------------------------------------------------------------------------------

    def change_window(self, order: Order, slot_id: str) -> None:
        """Another window on the delivery day; the stop moves if the route needs it."""
        self._require(order, Action.window)
        window = _slot_window(slot_id)
        if window[0].astimezone(self.timezone).date() != order.service_date:
            raise Unprocessable(
                "That window is on another day: reschedule instead.",
                errors=[field_error(["slot_id"], "a window of another day")],
            )
        edits = self._fit(order, window, self._where(order))
        self.slots.book(order, slot_id)  # capacity; notification and history of the slot
        self._done(order, Action.window, ["windows"], edits, notify=False)

    def reschedule(self, order: Order, slot_id: str) -> None:
        """A window on another day; an order already on a route goes back to the pool."""
        self._require(order, Action.reschedule)
        day = _slot_window(slot_id)[0].astimezone(self.timezone).date()
        if day == order.service_date and order.status is not OrderStatus.failed:
            self.change_window(order, slot_id)
            return
        edits = self._leave_route(order, "rescheduled by the customer")
        self.session.flush()
        self.slots.book(order, slot_id)
        self._done(order, Action.reschedule, ["service_date", "windows"], edits, notify=False)

    def _leave_route(self, order: Order, reason: str) -> list[RouteEdit]:
        """Off its route and back to planning: failed -> rescheduled, dispatched -> created."""
        if order.status is OrderStatus.failed:
            self.orders.next_attempt(order, reason)
            return []
        route = route_of(self.session, order)
        if route is None:
            return []
        edit = RouteEdit(route)
        edit.take_out(order)
        for target in (OrderStatus.planned, OrderStatus.created):
            self.orders.follow(order, target, reason)
        return [edit]

    def _fit(
        self, order: Order, window: tuple[datetime, datetime], where: tuple[float, float]
    ) -> list[RouteEdit]:
        """Move the order's stop so that it is served at ``where`` in ``window``.

        Nothing moves when the order is on no route, or when its stop already is there then. A
        route not started yet may hand the order to another route of the day; one under way
        keeps it (the parcel is on board).
        """
        route = route_of(self.session, order)
        stop = _stop(route, order)
        if route is None or stop is None:
            return []
        lat, lon = where
        if at_place(stop, lat, lon) and window[0] <= stop.planned_arrival <= window[1]:
            return []
        only = None if route.status is RouteStatus.dispatched else route.id
        insertion = self.slots.insertion_for_order(order, lat, lon, window, only)
        if insertion is None:
            raise NoRoom("There is no room on the van at that time any more.")
        edits = {route.id: RouteEdit(route)}
        edits[route.id].take_out(order)
        if insertion.route_id not in edits:
            target = route_of(self.session, order, insertion.route_id)
            assert target is not None  # the insertion came from the day's routes
            edits[insertion.route_id] = RouteEdit(target)
        service_s = handling_seconds(
            order.delivery_method, len(order.parcels), age_check=order.age_check
        )
        edits[insertion.route_id].insert(
            order, insertion, lat, lon, service_s=service_s, window_end=window[1]
        )
        # The slot's own check must see the stop where it now is: write it before booking.
        self.session.flush()
        return list(edits.values())

    # --- where -----------------------------------------------------------------------------

    def redirect(self, order: Order, point_id: str | None) -> None:
        """Deliver to a locker or pick-up point (None: back to the address)."""
        self._require(order, Action.redirect)
        if point_id is None and order.pickup_point_id is None:
            return
        failed = order.status is OrderStatus.failed
        edits = self._leave_route(order, "redirected after a failed attempt") if failed else []
        previous = order.pickup_point_id
        point: PickupPoint | None = None
        if point_id is None:
            order.delivery_method = (
                DeliveryMethod.safe_place if order.safe_place else DeliveryMethod.doorstep
            )
            order.pickup_point_id = None
            where = (order.address.lat, order.address.lon)
        else:
            point = self.points.get(point_id)
            if point is None or not point.active:
                raise Unprocessable(
                    f"No pick-up point {point_id!r} to deliver to.",
                    errors=[field_error(["pickup_point_id"], "unknown or not in service")],
                )
            order.delivery_method = DeliveryMethod(point.kind.value)
            order.pickup_point_id = point.id
            where = (point.lat, point.lon)
        if failed:
            self._next_attempt(order, point)
        else:
            edits += self._move_to(order, where, point_id)
        fields = ["delivery_method", "pickup_point_id"]
        if previous == order.pickup_point_id:
            fields.remove("pickup_point_id")
        self._done(order, Action.redirect, fields, edits)

    def _move_to(
        self, order: Order, where: tuple[float, float], point_id: str | None
    ) -> list[RouteEdit]:
        """Serve the order at ``where`` on its day; a locker must have room and be open then."""
        window = self.window_of(order) or self._whole_day(order.service_date)
        route = route_of(self.session, order)
        at: tuple[datetime, datetime] | None = window
        edits: list[RouteEdit] = []
        if route is not None and _stop(route, order) is not None:
            joined = place_stop(route, *where) if point_id is not None else None
            if joined is not None and joined.id != order.stop_id:
                edit = RouteEdit(route)
                edit.take_out(order)
                edit.join(order, joined)
                edits = [edit]
                at = (joined.planned_arrival, joined.planned_arrival)
            else:
                edits = self._fit(order, window, where)
                stop = self.session.get(RouteStop, order.stop_id) if order.stop_id else None
                if stop is not None:
                    at = (stop.planned_arrival, stop.planned_arrival)
        if point_id is not None:
            self.points.reserve(point_id, order.service_date, at, order_id=order.id)
        return edits

    def _next_attempt(self, order: Order, point: PickupPoint | None) -> None:
        """After a failed attempt: the first window from tomorrow the destination can take."""
        tomorrow = self.today() + timedelta(days=1)
        for offer in self.slots.offers_for_order(order):
            if not offer.feasible or offer.service_date < tomorrow:
                continue
            window = (offer.starts_at, offer.ends_at)
            if point is not None:
                choice = self.points.choice(point, offer.service_date, window, order_id=order.id)
                if choice.reason is not None:
                    continue
                self.points.reserve(point.id, offer.service_date, window, order_id=order.id)
            self.slots.book(order, offer.slot_id)
            return
        raise NoRoom("There is no day left in the coming week to deliver there; contact us.")

    def _whole_day(self, day: date) -> tuple[datetime, datetime]:
        start = local_midnight(day, self.timezone)
        return start, start + timedelta(days=1)

    def _where(self, order: Order) -> tuple[float, float]:
        point: PickupPoint | None = (
            self.points.get(order.pickup_point_id) if order.pickup_point_id else None
        )
        if point is not None:
            return point.lat, point.lon
        return order.address.lat, order.address.lon

    # --- how -------------------------------------------------------------------------------

    def set_safe_place(self, order: Order, place: SafePlace | None, note: str | None) -> None:
        """Leave the parcel at a safe place (None: hand it over at the door)."""
        self._require(order, Action.safe_place)
        if order.delivery_method in PICKUP_METHODS:
            raise Conflict("Your parcel goes to a locker or pick-up point, not to your door.")
        if place is not None and (order.signature_required or order.age_check):
            raise Conflict("Someone has to sign for this parcel, so it cannot be left outside.")
        if place is None:
            if order.delivery_method is DeliveryMethod.safe_place:
                order.delivery_method = DeliveryMethod.doorstep
            order.safe_place = order.safe_place_note = None
        else:
            order.delivery_method = DeliveryMethod.safe_place
            order.safe_place, order.safe_place_note = place, _text(note)
        self._done(order, Action.safe_place, ["delivery_method", "safe_place", "safe_place_note"])

    def set_instructions(self, order: Order, instructions: str | None) -> None:
        self._require(order, Action.instructions)
        order.instructions = _text(instructions)
        self._done(order, Action.instructions, ["instructions"])

    def set_options(self, order: Order, signature: bool | None, in_home: bool | None) -> None:
        """Ask for (or withdraw) a signature or in-home delivery, where the sender allows it."""
        self._require(order, Action.delivery_options)
        allowance = self.allowance(order)
        fields = []
        if signature is not None and signature != order.signature_required:
            if not allowance.signature:
                raise Conflict("The sender does not offer signing for the parcel.")
            if not signature and not self._asked_by_customer(order):
                raise Conflict("The sender asked for a signature; it cannot be removed.")
            if signature and order.delivery_method is DeliveryMethod.safe_place:
                raise Conflict("A parcel left at a safe place cannot be signed for.")
            order.signature_required = signature
            fields.append("signature_required")
        if in_home is not None and in_home != (order.delivery_method is DeliveryMethod.in_home):
            order.delivery_method = (
                self._in_home(order, allowance) if in_home else (DeliveryMethod.doorstep)
            )
            fields.append("delivery_method")
        self._done(order, Action.delivery_options, fields)

    def _in_home(self, order: Order, allowance: Allowance) -> DeliveryMethod:
        if not allowance.in_home:
            raise Conflict("The sender does not offer in-home delivery.")
        if order.delivery_method in PICKUP_METHODS:
            raise Conflict("Your parcel goes to a locker or pick-up point, not to your door.")
        driver = self.session.get(Driver, order.driver_id) if order.driver_id else None
        if driver is not None and "in_home" not in driver.skills:
            raise NoRoom("Your driver today does not make in-home deliveries.")
        return DeliveryMethod.in_home

    def _asked_by_customer(self, order: Order) -> bool:
        """Whether the signature was last switched on through self-service."""
        for event in reversed(self.orders.repo.events(order.id)):
            if "signature_required" in event.details.get("fields", ()):
                return bool(event.details.get("via") == SELF_SERVICE)
        return False

    # --- the end of every change -----------------------------------------------------------

    def _done(
        self, order: Order, action: Action, fields: list[str], edits: Sequence[RouteEdit] = (),
        *, notify: bool = True,
    ) -> None:  # fmt: skip
        for edit in edits:
            edit.finish()
        self.orders.record_change(order, fields, via=SELF_SERVICE, action=action.value)
        if notify:  # a booking tells the customer itself
            data: dict[str, Any] = {"change": action.value, "fields": sorted(fields)}
            window = self.window_of(order)
            if window is not None:
                data |= {"starts_at": iso_z(window[0]), "ends_at": iso_z(window[1])}
            enqueue_event(self.session, order, NotificationEvent.slot_changed, data)
        self.session.flush()
        announce_change(
            self.session, self.services.broker, order, fields, via=SELF_SERVICE,
            routes=[edit.route.id for edit in edits],
        )  # fmt: skip


def _slot_window(slot_id: str) -> tuple[datetime, datetime]:
    """The window a slot id names (the slot service checks it is one it offers)."""
    parsed = parse_slot_id(slot_id)
    if parsed is None:
        raise Unprocessable(
            f"{slot_id!r} is not a slot id.", errors=[field_error(["slot_id"], "unknown slot")]
        )
    start, minutes, _ = parsed
    return start, start + timedelta(minutes=minutes)


def _stop(route: Route | None, order: Order) -> RouteStop | None:
    if route is None:
        return None
    return next((s for s in route.stops if s.id == order.stop_id), None)


def _text(value: str | None) -> str | None:
    """Free text as stored: trimmed, and None when nothing is left."""
    value = (value or "").strip()
    return value or None

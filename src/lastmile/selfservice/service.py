"""Self-service for the holder of a tracking link: what they may change now, and the changes.

The token is the credential: it names one order, and every read and change here is about that
order only. Changes go through :class:`~lastmile.selfservice.changes.DeliveryChanges`, acting
as ``system:customer:<link id>`` in the order's history.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lastmile.auth.principal import Access, Principal
from lastmile.config import Settings
from lastmile.kit.errors import Unprocessable, field_error
from lastmile.orders.models import DeliveryMethod, Order, SafePlace
from lastmile.orders.status import OrderStatus
from lastmile.routing.geo import great_circle_m
from lastmile.selfservice import schemas as s
from lastmile.selfservice.changes import DeliveryChanges
from lastmile.selfservice.pickup import PointChoice
from lastmile.selfservice.policy import Action, verdicts
from lastmile.services import Services
from lastmile.slots.service import SlotOffer
from lastmile.tracking.links import ResolvedLink


def customer_principal(link: ResolvedLink) -> Principal:
    """Who a link's holder acts as: the order's organization, named by the link."""
    return Principal(link.organization_id, Access.admin, system=f"customer:{link.link.id}")


class SelfService:
    """The self-service of one tracking link. Never commits."""

    def __init__(
        self, session: Session, services: Services, settings: Settings, link: ResolvedLink
    ) -> None:
        self.session = session
        self.order: Order = link.order
        self.radius_m = settings.self_service_locker_radius_km * 1000
        self.changes = DeliveryChanges(session, customer_principal(link), services)

    # --- reading ---------------------------------------------------------------------------

    def view(self) -> s.SelfServiceView:
        order, changes = self.order, self.changes
        decided = verdicts(changes.progress(order))
        allowance = changes.allowance(order)
        window = changes.window_of(order)
        windows: list[s.WindowOffer] = []
        days: dict[date, list[s.WindowOffer]] = defaultdict(list)
        if decided[Action.window].allowed or decided[Action.reschedule].allowed:
            failed = order.status is OrderStatus.failed
            for offer in changes.slots.offers_for_order(order):
                if not (offer.feasible or offer.booked):
                    continue
                if offer.service_date == order.service_date and not failed:
                    windows.append(_offer(offer))
                else:
                    days[offer.service_date].append(_offer(offer))
        return s.SelfServiceView(
            order_id=order.id,
            status=order.status,
            timezone=str(changes.timezone),
            actions=s.Actions(
                **{
                    action.name: s.ActionState(allowed=v.allowed, reason=v.reason)
                    for action, v in decided.items()
                }
            ),
            windows=windows if decided[Action.window].allowed else [],
            days=[s.DayOffers(date=day, windows=offers) for day, offers in sorted(days.items())]
            if decided[Action.reschedule].allowed
            else [],
            pickup_points=self._points(),
            safe_places=list(SafePlace),
            current=s.Choices(
                service_date=order.service_date,
                window=s.Window(starts_at=window[0], ends_at=window[1]) if window else None,
                delivery_method=order.delivery_method,
                pickup_point_id=order.pickup_point_id,
                safe_place=order.safe_place,
                safe_place_note=order.safe_place_note,
                instructions=order.instructions,
                signature_required=order.signature_required,
                in_home=order.delivery_method is DeliveryMethod.in_home,
            ),
            allowances=s.Allowances(signature=allowance.signature, in_home=allowance.in_home),
        )

    def _points(self) -> list[s.PickupPointOffer]:
        order, changes = self.order, self.changes
        # After a failed attempt the parcel goes out again tomorrow at the earliest.
        day = order.service_date
        if order.status is OrderStatus.failed:
            day = max(day, changes.today() + timedelta(days=1))
        address = order.address
        choices = changes.points.near(
            address.lat, address.lon, self.radius_m, day, changes.window_of(order),
            order_id=order.id,
        )  # fmt: skip
        return [_point(c, current=c.point.id == order.pickup_point_id) for c in choices]

    # --- changes ---------------------------------------------------------------------------

    def _lock(self) -> Order:
        """The order, row-locked until the change commits (one change at a time per order)."""
        self.session.execute(select(Order.id).where(Order.id == self.order.id).with_for_update())
        self.session.refresh(self.order)
        return self.order

    def change_window(self, body: s.WindowChange) -> None:
        self.changes.change_window(self._lock(), body.slot_id)

    def reschedule(self, body: s.Reschedule) -> None:
        self.changes.reschedule(self._lock(), body.slot_id)

    def redirect(self, body: s.Redirect) -> None:
        order = self._lock()
        point = self.changes.points.get(body.pickup_point_id) if body.pickup_point_id else None
        if point is not None:
            distance = great_circle_m(order.address.lat, order.address.lon, point.lat, point.lon)
            if distance > self.radius_m:
                raise Unprocessable(
                    f"{point.name} is too far from your address.",
                    errors=[field_error(["pickup_point_id"], "not one of the points nearby")],
                )
        self.changes.redirect(order, body.pickup_point_id)

    def set_safe_place(self, body: s.SafePlaceChange) -> None:
        self.changes.set_safe_place(self._lock(), body.safe_place, body.note)

    def set_instructions(self, body: s.InstructionsChange) -> None:
        self.changes.set_instructions(self._lock(), body.instructions)

    def set_options(self, body: s.DeliveryOptions) -> None:
        self.changes.set_options(self._lock(), body.signature_required, body.in_home)


def _offer(offer: SlotOffer) -> s.WindowOffer:
    return s.WindowOffer(
        slot_id=offer.slot_id, date=offer.service_date, starts_at=offer.starts_at,
        ends_at=offer.ends_at, price=offer.price, currency=offer.currency, green=offer.green,
        current=offer.booked,
    )  # fmt: skip


def _point(choice: PointChoice, *, current: bool) -> s.PickupPointOffer:
    point = choice.point
    return s.PickupPointOffer(
        id=point.id, name=point.name, kind=point.kind, address=point.address, lat=point.lat,
        lon=point.lon, distance_m=round(choice.distance_m), free_compartments=max(0, choice.free),
        open=choice.open, available=choice.reason is None, reason=choice.reason, current=current,
    )  # fmt: skip

"""HTTP routes for delivery slots: quote, the slot policy, and booking an order's slot."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from lastmile.auth.principal import STAFF, Access, Principal
from lastmile.deps import ServicesDep, SessionDep, require
from lastmile.orders.service import OrderService
from lastmile.slots import schemas as s
from lastmile.slots.policy import SlotPolicyRules
from lastmile.slots.service import SlotOffer, SlotService

router = APIRouter(tags=["slots"])


def _merchant_or_staff(
    session: SessionDep,
    services: ServicesDep,
    principal: Annotated[Principal, Depends(require(*STAFF, Access.merchant))],
) -> tuple[SlotService, OrderService]:
    return SlotService(session, principal, services), OrderService(session, principal, services)


def _staff(
    session: SessionDep,
    services: ServicesDep,
    principal: Annotated[Principal, Depends(require(*STAFF))],
) -> SlotService:
    return SlotService(session, principal, services)


Slots = Annotated[tuple[SlotService, OrderService], Depends(_merchant_or_staff)]
StaffSlots = Annotated[SlotService, Depends(_staff)]


def _read(offer: SlotOffer) -> s.SlotOfferRead:
    return s.SlotOfferRead(
        id=offer.slot_id,
        service_date=offer.service_date,
        starts_at=offer.starts_at,
        ends_at=offer.ends_at,
        area_id=offer.area_id,
        feasible=offer.feasible,
        reason=offer.reason,
        remaining=offer.remaining,
        capacity=offer.capacity,
        price_hint=s.PriceHint(amount=offer.price, currency=offer.currency),
        green=offer.green,
        extra_km=offer.extra_km,
        extra_co2_g=offer.extra_co2_g,
        booked=offer.booked,
    )


@router.post("/v1/slots:quote", response_model=s.SlotQuote)
def quote_slots(payload: s.QuoteRequest, svc: Slots) -> s.SlotQuote:
    """The delivery windows of the coming days for an address and shipment.

    Each window says whether it can be booked (else `reason`: full, cut_off,
    no_vehicle_can_reach, outside_service_area, too_heavy), how many places remain, a price
    hint, and `green` when a vehicle already passes nearby (`extra_km`, `extra_co2_g`: the
    cheapest insertion into the committed plan, or a round trip from the nearest order already
    waiting for a day not yet planned).
    """
    quote = svc[0].quote(payload)
    return s.SlotQuote(
        location=s.Point(lat=quote.lat, lon=quote.lon),
        area_id=quote.area_id,
        offers=[_read(o) for o in quote.offers],
    )


@router.get("/v1/orders/{order_id}/slots", response_model=list[s.SlotOfferRead])
def order_slots(
    order_id: str,
    svc: Slots,
    days: Annotated[int | None, Query(ge=1, le=60)] = None,
) -> list[s.SlotOfferRead]:
    """The windows this order could be booked into; its own place counts as free."""
    slots, orders = svc
    return [_read(o) for o in slots.offers_for_order(orders.get(order_id), days)]


@router.post("/v1/orders/{order_id}/slot", response_model=s.SlotBookingRead)
def book_slot(order_id: str, payload: s.BookSlot, svc: Slots) -> s.SlotBookingRead:
    """Book the order into a slot from a quote; its previous slot's place is given back.

    409 `slot-full` when no place is left, 409 `slot-unavailable` when the window is cut off
    or cannot be served; nothing changes then.
    """
    slots, orders = svc
    offer = slots.book(orders.get(order_id), payload.slot_id)
    return s.SlotBookingRead(order_id=order_id, slot=_read(offer))


@router.get("/v1/slot-policy", response_model=SlotPolicyRules)
def read_slot_policy(svc: StaffSlots) -> SlotPolicyRules:
    """The organization's slot rules (the defaults until they are first set)."""
    return svc.policy()


@router.put("/v1/slot-policy", response_model=SlotPolicyRules)
def replace_slot_policy(payload: SlotPolicyRules, svc: StaffSlots) -> SlotPolicyRules:
    """Replace the slot rules: window grid, capacity (per depot area), cut-offs, prices."""
    return svc.set_policy(payload)

"""Checking new orders against the tenant's data and turning them into rows.

Single creates and bulk imports share this path: references, duplicates and geocoding are
checked for the whole batch in a few queries, then every table is written with one
multi-row insert per table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.orm import Session

from lastmile.auth.principal import Principal
from lastmile.customers.models import Address, Customer
from lastmile.customers.repository import AddressRepository, CustomerRepository
from lastmile.customers.service import geocoding_error, owning_merchant
from lastmile.db.base import Base
from lastmile.fleet.models import PickupPoint
from lastmile.fleet.repository import PickupPointRepository
from lastmile.integrations.geocoding import Geocoder
from lastmile.kit.errors import FieldError, field_error
from lastmile.kit.ids import new_id
from lastmile.orders.models import DeliveryWindow, Order, OrderEvent, Parcel, ServiceLevel
from lastmile.orders.repository import OrderRepository
from lastmile.orders.schemas import OrderCreate
from lastmile.orders.status import OrderStatus
from lastmile.organizations.repository import MerchantRepository

# Tables in the order foreign keys need.
_TABLES: tuple[type[Base], ...] = (Customer, Address, Order, Parcel, DeliveryWindow, OrderEvent)


@dataclass(frozen=True)
class IntakeContext:
    session: Session
    principal: Principal
    geocoder: Geocoder
    timezone: ZoneInfo
    now: datetime


@dataclass
class Intake:
    """The outcome of checking a batch: rows to insert and errors per input row."""

    rows: dict[type[Base], list[dict[str, Any]]] = field(
        default_factory=lambda: {table: [] for table in _TABLES}
    )
    order_ids: list[str] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)
    # Some row was refused for duplicating existing data (409 for a single create).
    has_duplicates: bool = False


def service_date_for(order: OrderCreate, tz: ZoneInfo, now: datetime) -> date:
    """The local day the order is to be delivered on."""
    if order.service_date is not None:
        return order.service_date
    if order.windows:
        return order.windows[0].start.astimezone(tz).date()
    today = now.astimezone(tz).date()
    return today if order.service_level is ServiceLevel.same_day else today + timedelta(days=1)


class _Lookups:
    """Everything a batch refers to, fetched in one query per kind."""

    def __init__(self, ctx: IntakeContext, items: Sequence[tuple[int | None, OrderCreate]]) -> None:
        s, p = ctx.session, ctx.principal
        orders = [o for _, o in items]
        self.merchants = {
            m.id for m in MerchantRepository(s, p).get_many(_ids(o.merchant_id for o in orders))
        }
        self.customers = {
            c.id for c in CustomerRepository(s, p).get_many(_ids(o.customer_id for o in orders))
        }
        self.addresses = {
            a.id: a for a in AddressRepository(s, p).get_many(_ids(o.address_id for o in orders))
        }
        self.pickup_points: dict[str, PickupPoint] = {
            pp.id: pp
            for pp in PickupPointRepository(s, p).get_many(_ids(o.pickup_point_id for o in orders))
        }
        repo = OrderRepository(s, p)
        refs_by_merchant: dict[str | None, set[str]] = {}
        for _, o in items:
            if o.merchant_reference:
                merchant = owning_merchant(p, o.merchant_id)
                refs_by_merchant.setdefault(merchant, set()).add(o.merchant_reference)
        self.taken_refs = {
            (merchant, ref)
            for merchant, refs in refs_by_merchant.items()
            for ref in repo.existing_references(merchant, refs)
        }
        self.taken_barcodes = repo.existing_barcodes(
            {parcel.barcode for o in orders for parcel in o.parcels}
        )


def _ids(values: Any) -> list[str]:
    return sorted({v for v in values if v is not None})


def check_orders(ctx: IntakeContext, items: Sequence[tuple[int | None, OrderCreate]]) -> Intake:
    """Check a batch of schema-valid orders and build the rows of the valid ones."""
    look = _Lookups(ctx, items)
    intake = Intake()
    ref_counts = Counter(
        (owning_merchant(ctx.principal, o.merchant_id), o.merchant_reference)
        for _, o in items
        if o.merchant_reference
    )
    barcode_counts = Counter(p.barcode for _, o in items for p in o.parcels)
    for row, order in items:
        errors: list[FieldError] = []

        def fail(loc: list[str | int], message: str, *, duplicate: bool = False) -> None:
            errors.append(field_error(loc, message, row=row))  # noqa: B023
            if duplicate:
                intake.has_duplicates = True

        merchant_id = owning_merchant(ctx.principal, order.merchant_id)
        if ctx.principal.merchant_id is not None and order.merchant_id not in (None, merchant_id):
            fail(["merchant_id"], "merchants create orders for themselves only")
        elif order.merchant_id is not None and order.merchant_id not in look.merchants:
            fail(["merchant_id"], f"unknown merchant {order.merchant_id!r}")
        if order.customer_id is not None and order.customer_id not in look.customers:
            fail(["customer_id"], f"unknown customer {order.customer_id!r}")
        if order.address_id is not None and order.address_id not in look.addresses:
            fail(["address_id"], f"unknown address {order.address_id!r}")
        if order.pickup_point_id is not None:
            point = look.pickup_points.get(order.pickup_point_id)
            if point is None:
                fail(["pickup_point_id"], f"unknown pickup point {order.pickup_point_id!r}")
            elif not point.active:
                fail(["pickup_point_id"], "this pickup point is out of service")
            elif point.kind.value != order.delivery_method.value:
                fail(
                    ["pickup_point_id"],
                    f"this is a {point.kind.value}, not a {order.delivery_method.value}",
                )
        for i, window in enumerate(order.windows):
            if window.end <= ctx.now:
                fail(["windows", i, "end"], "the window is already over")
        if order.merchant_reference:
            key = (merchant_id, order.merchant_reference)
            if key in look.taken_refs:
                fail(["merchant_reference"], "an order with this reference exists", duplicate=True)
            elif ref_counts[key] > 1:
                fail(["merchant_reference"], "repeated in this batch", duplicate=True)
        for i, parcel in enumerate(order.parcels):
            if parcel.barcode in look.taken_barcodes:
                fail(["parcels", i, "barcode"], "a parcel with this barcode exists", duplicate=True)
            elif barcode_counts[parcel.barcode] > 1:
                fail(["parcels", i, "barcode"], "repeated in this batch", duplicate=True)
        address_values = order.address.model_dump() if order.address else None
        if address_values is not None and not errors:
            geo_error = geocoding_error(address_values, ctx.geocoder)
            if geo_error is not None:
                fail(["address", "lat"], geo_error.message)
        if errors:
            intake.errors.extend(errors)
            continue
        _build_rows(ctx, intake, order, merchant_id, address_values)
    return intake


def _build_rows(
    ctx: IntakeContext,
    intake: Intake,
    order: OrderCreate,
    merchant_id: str | None,
    address_values: dict[str, Any] | None,
) -> None:
    org = ctx.principal.organization_id
    rows = intake.rows
    customer_id = order.customer_id
    if order.customer is not None:
        customer_id = new_id("cus")
        rows[Customer].append(
            {
                "id": customer_id,
                "organization_id": org,
                "merchant_id": merchant_id,
                "created_at": ctx.now,
                "updated_at": ctx.now,
            }
            | order.customer.model_dump(mode="json")
        )
    address_id = order.address_id
    if address_values is not None:
        address_id = new_id("adr")
        rows[Address].append(
            {
                "id": address_id,
                "organization_id": org,
                "merchant_id": merchant_id,
                "customer_id": customer_id,
                "created_at": ctx.now,
                "updated_at": ctx.now,
            }
            | address_values
        )
    order_id = new_id("ord")
    intake.order_ids.append(order_id)
    value = order.declared_value
    rows[Order].append(
        {
            "id": order_id,
            "organization_id": org,
            "merchant_id": merchant_id,
            "merchant_reference": order.merchant_reference,
            "customer_id": customer_id,
            "address_id": address_id,
            "status": OrderStatus.created,
            "service_level": order.service_level,
            "delivery_method": order.delivery_method,
            "pickup_point_id": order.pickup_point_id,
            "service_date": service_date_for(order, ctx.timezone, ctx.now),
            "zone": order.zone,
            "safe_place": order.safe_place,
            "safe_place_note": order.safe_place_note,
            "instructions": order.instructions,
            "signature_required": order.signature_required,
            "age_check": order.age_check,
            "declared_value": value.amount if value else None,
            "currency": value.currency if value else None,
            "priority": order.priority,
            "release_at": order.release_at,
            "driver_id": None,
            "vehicle_id": None,
            "route_id": None,
            "stop_id": None,
            "created_at": ctx.now,
            "updated_at": ctx.now,
        }
    )
    for position, parcel in enumerate(order.parcels):
        rows[Parcel].append(
            {
                "id": new_id("prc"),
                "organization_id": org,
                "order_id": order_id,
                "position": position,
            }
            | parcel.model_dump()
        )
    for position, window in enumerate(order.windows):
        rows[DeliveryWindow].append(
            {
                "id": new_id("win"),
                "organization_id": org,
                "order_id": order_id,
                "position": position,
                "starts_at": window.start,
                "ends_at": window.end,
            }
        )
    rows[OrderEvent].append(
        {
            "id": new_id("evt"),
            "organization_id": org,
            "order_id": order_id,
            "at": ctx.now,
            "from_status": None,
            "to_status": OrderStatus.created,
            "actor": ctx.principal.actor,
            "reason": None,
            "details": {},
        }
    )


def insert_rows(session: Session, intake: Intake) -> None:
    """Write the batch: one multi-row INSERT per table."""
    for table in _TABLES:
        if intake.rows[table]:
            session.execute(insert(table), intake.rows[table])

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lastmile.customers.models import Address
from lastmile.db.base import Base, TenantMixin, TimestampMixin, UTCDateTime, enum_type, id_column
from lastmile.orders.status import OrderStatus


class ServiceLevel(enum.StrEnum):
    same_day = "same_day"
    next_day = "next_day"
    scheduled = "scheduled"


class DeliveryMethod(enum.StrEnum):
    doorstep = "doorstep"
    safe_place = "safe_place"
    locker = "locker"
    pickup_point = "pickup_point"
    in_home = "in_home"


class SafePlace(enum.StrEnum):
    front_door = "front_door"
    back_door = "back_door"
    porch = "porch"
    garage = "garage"
    shed = "shed"
    reception = "reception"
    neighbour = "neighbour"
    other = "other"


class Order(TenantMixin, TimestampMixin, Base):
    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("merchant_id", "merchant_reference"),)

    id: Mapped[str] = id_column()
    merchant_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("merchants.id", ondelete="RESTRICT"), index=True
    )
    merchant_reference: Mapped[str | None] = mapped_column(String(100))
    customer_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("customers.id", ondelete="RESTRICT"), index=True
    )
    address_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("addresses.id", ondelete="RESTRICT")
    )
    status: Mapped[OrderStatus] = mapped_column(enum_type(OrderStatus), index=True)
    service_level: Mapped[ServiceLevel] = mapped_column(enum_type(ServiceLevel))
    delivery_method: Mapped[DeliveryMethod] = mapped_column(enum_type(DeliveryMethod))
    pickup_point_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("pickup_points.id", ondelete="RESTRICT")
    )
    service_date: Mapped[date] = mapped_column(Date, index=True)
    zone: Mapped[str | None] = mapped_column(String(40), index=True)
    safe_place: Mapped[SafePlace | None] = mapped_column(enum_type(SafePlace))
    safe_place_note: Mapped[str | None] = mapped_column(String(300))
    instructions: Mapped[str | None] = mapped_column(Text)
    signature_required: Mapped[bool] = mapped_column(Boolean, default=False)
    age_check: Mapped[bool] = mapped_column(Boolean, default=False)
    declared_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    priority: Mapped[int] = mapped_column(Integer, default=50)
    release_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    driver_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("drivers.id", ondelete="SET NULL"), index=True
    )
    vehicle_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("vehicles.id", ondelete="SET NULL")
    )
    # Set when a plan is committed: the route and stop that deliver this order.
    route_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("routes.id", ondelete="SET NULL"), index=True
    )
    stop_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("route_stops.id", ondelete="SET NULL")
    )

    address: Mapped[Address] = relationship(lazy="joined")
    parcels: Mapped[list[Parcel]] = relationship(
        back_populates="order", order_by="Parcel.position", cascade="all, delete-orphan"
    )
    windows: Mapped[list[DeliveryWindow]] = relationship(
        back_populates="order", order_by="DeliveryWindow.position", cascade="all, delete-orphan"
    )


class Parcel(TenantMixin, Base):
    __tablename__ = "parcels"
    __table_args__ = (UniqueConstraint("organization_id", "barcode"),)

    id: Mapped[str] = id_column()
    order_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    barcode: Mapped[str] = mapped_column(String(64))
    weight_kg: Mapped[float] = mapped_column(Float)
    volume_litres: Mapped[float] = mapped_column(Float)
    length_cm: Mapped[float | None] = mapped_column(Float)
    width_cm: Mapped[float | None] = mapped_column(Float)
    height_cm: Mapped[float | None] = mapped_column(Float)

    order: Mapped[Order] = relationship(back_populates="parcels")


class DeliveryWindow(TenantMixin, Base):
    """One acceptable delivery window; ``position`` 0 is the customer's first choice."""

    __tablename__ = "delivery_windows"

    id: Mapped[str] = id_column()
    order_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="windows")


class OrderEvent(TenantMixin, Base):
    """One entry of an order's status history (append-only)."""

    __tablename__ = "order_events"

    id: Mapped[str] = id_column()
    order_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_status: Mapped[OrderStatus | None] = mapped_column(enum_type(OrderStatus))
    to_status: Mapped[OrderStatus] = mapped_column(enum_type(OrderStatus))
    actor: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(String(500))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lastmile.db.base import Base, TenantMixin, TimestampMixin, UTCDateTime, enum_type, id_column
from lastmile.routing.profiles import RoutingProfile


class DepotKind(enum.StrEnum):
    depot = "depot"
    hub = "hub"  # urban consolidation centre


class VehicleType(enum.StrEnum):
    van = "van"
    ev_van = "ev_van"
    cargo_bike = "cargo_bike"
    drone = "drone"


class PickupPointKind(enum.StrEnum):
    locker = "locker"
    pickup_point = "pickup_point"


class Depot(TenantMixin, TimestampMixin, Base):
    """A depot or urban consolidation hub routes start and end at."""

    __tablename__ = "depots"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[DepotKind] = mapped_column(enum_type(DepotKind))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(500))
    opening_hours: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    loading_time_s: Mapped[int] = mapped_column(Integer, default=900)


class Vehicle(TenantMixin, TimestampMixin, Base):
    __tablename__ = "vehicles"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[VehicleType] = mapped_column(enum_type(VehicleType))
    capacity_parcels: Mapped[int] = mapped_column(Integer)
    capacity_kg: Mapped[float] = mapped_column(Float)
    capacity_litres: Mapped[float] = mapped_column(Float)
    fixed_cost: Mapped[float] = mapped_column(Float, default=0)
    cost_per_km: Mapped[float] = mapped_column(Float, default=0)
    cost_per_hour: Mapped[float] = mapped_column(Float, default=0)
    co2_g_per_km: Mapped[float] = mapped_column(Float, default=0)
    energy_kwh_per_km: Mapped[float] = mapped_column(Float, default=0)
    range_km: Mapped[float | None] = mapped_column(Float)
    avg_speed_kmh: Mapped[float] = mapped_column(Float)
    routing_profile: Mapped[RoutingProfile] = mapped_column(enum_type(RoutingProfile))
    max_payload_kg: Mapped[float | None] = mapped_column(Float)
    home_depot_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("depots.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Driver(TenantMixin, TimestampMixin, Base):
    __tablename__ = "drivers"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    user_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )
    home_depot_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("depots.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Shift(TenantMixin, TimestampMixin, Base):
    """One working period of a driver, with the breaks it must contain."""

    __tablename__ = "shifts"

    id: Mapped[str] = id_column()
    driver_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("drivers.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    breaks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class PickupPoint(TenantMixin, TimestampMixin, Base):
    """A parcel locker or staffed pick-up point customers can collect from."""

    __tablename__ = "pickup_points"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PickupPointKind] = mapped_column(enum_type(PickupPointKind))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(500))
    opening_hours: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    compartments: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

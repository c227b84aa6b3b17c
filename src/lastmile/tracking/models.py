from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lastmile.db.base import Base, TenantMixin, UTCDateTime, enum_type, id_column
from lastmile.kit.clock import utcnow


class FixSource(enum.StrEnum):
    """The path a position arrived by."""

    app = "app"  # POST /v1/positions (driver app or a gateway)
    osmand = "osmand"  # OsmAnd / Traccar Client HTTP protocol
    mqtt = "mqtt"  # vehicle telematics over MQTT
    simulation = "simulation"  # the demo's simulated fleet


class PositionFix(TenantMixin, Base):
    """One accepted GPS fix of a vehicle: the stored trace, purged after the retention period."""

    __tablename__ = "position_fixes"
    __table_args__ = (
        # One fix per vehicle and instant: replays and retries are duplicates, not new points.
        UniqueConstraint("vehicle_id", "recorded_at"),
        Index("ix_position_fixes_recorded_at", "recorded_at"),
    )

    # An integer key: the trace is the largest table and is never addressed by public id.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    vehicle_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("vehicles.id", ondelete="CASCADE")
    )
    driver_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("drivers.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    speed_mps: Mapped[float | None] = mapped_column(Float)
    heading_deg: Mapped[float | None] = mapped_column(Float)
    battery: Mapped[float | None] = mapped_column(Float)
    source: Mapped[FixSource] = mapped_column(enum_type(FixSource))


class TrackingDevice(TenantMixin, Base):
    """A phone tracker or GPS unit that reports for a vehicle by its device identifier.

    The OsmAnd protocol carries no credential but the identifier, so it is stored hashed and
    treated as a secret (generated long and random unless an installer supplies one).
    """

    __tablename__ = "tracking_devices"

    id: Mapped[str] = id_column()
    vehicle_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("vehicles.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    identifier_hash: Mapped[str] = mapped_column(String(64), unique=True)
    identifier_hint: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TrackingLink(TenantMixin, Base):
    """A customer's private link to one order's tracking page; the token is stored hashed."""

    __tablename__ = "tracking_links"

    id: Mapped[str] = id_column()
    order_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    # Hard limit from issue time; links also expire a set time after delivery (see links.py).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

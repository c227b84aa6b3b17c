"""Load-out scans, proof files and delivery proofs."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lastmile.db.base import Base, TenantMixin, UTCDateTime, enum_type, id_column


class ProofOutcome(enum.StrEnum):
    delivered = "delivered"
    failed = "failed"


class FailureReason(enum.StrEnum):
    """Why a delivery attempt failed (the reason codes the driver app offers)."""

    not_home = "not_home"
    no_access = "no_access"
    refused = "refused"
    damaged = "damaged"
    wrong_address = "wrong_address"
    unsafe = "unsafe"


class ParcelScan(TenantMixin, Base):
    """A parcel scanned into its route's vehicle at load-out; one row per route and parcel, so
    a rescan changes nothing."""

    __tablename__ = "parcel_scans"
    __table_args__ = (UniqueConstraint("route_id", "parcel_id"),)

    id: Mapped[str] = id_column()
    route_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("routes.id", ondelete="CASCADE"), index=True
    )
    parcel_id: Mapped[str] = mapped_column(String(40), ForeignKey("parcels.id", ondelete="CASCADE"))
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(80))


class RouteLoadout(TenantMixin, Base):
    """The driver declared a route's load-out finished (missing parcels stay flagged)."""

    __tablename__ = "route_loadouts"

    id: Mapped[str] = id_column()
    route_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("routes.id", ondelete="CASCADE"), unique=True
    )
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(80))


class ProofFile(TenantMixin, Base):
    """A photo or signature, stored once per organization under its SHA-256.

    The bytes live in the database: they commit or roll back with the proof that uses them, and
    every server process reads the same store.
    """

    __tablename__ = "proof_files"
    __table_args__ = (UniqueConstraint("organization_id", "sha256"),)

    id: Mapped[str] = id_column()
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeliveryProof(TenantMixin, Base):
    """One delivery attempt as the driver recorded it: delivered (with its evidence) or failed."""

    __tablename__ = "delivery_proofs"

    id: Mapped[str] = id_column()
    order_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    # The route the attempt was made on: a failed order may be re-planned onto another.
    route_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("routes.id", ondelete="SET NULL"), index=True
    )
    outcome: Mapped[ProofOutcome] = mapped_column(enum_type(ProofOutcome))
    # The custody event each parcel got: delivered, put_in_locker or failed.
    custody_event: Mapped[str] = mapped_column(String(32))
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    age_checked: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[FailureReason | None] = mapped_column(enum_type(FailureReason))
    note: Mapped[str | None] = mapped_column(Text)
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    signature_sha256: Mapped[str | None] = mapped_column(String(64))
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    driver_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("drivers.id", ondelete="SET NULL"), index=True
    )
    actor: Mapped[str] = mapped_column(String(80))
    ledger_entry_ids: Mapped[list[str]] = mapped_column(JSON, default=list)

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lastmile.db.base import Base, TenantMixin, UTCDateTime, id_column
from lastmile.kit.clock import utcnow

_BIGINT = BigInteger().with_variant(Integer, "sqlite")


class CustodyEntry(TenantMixin, Base):
    """
    One custody event in an organization's hash chain (append-only; see docs/ledger.md).

    ``order_id`` and ``parcel_id`` carry no foreign key: the ledger is evidence and must
    outlive (and never block) changes to the orders it speaks about. ``event`` is plain text
    rather than an enum column so a row tampered with in SQL still loads and is reported by
    verification instead of failing to read.
    """

    __tablename__ = "custody_entries"
    __table_args__ = (
        UniqueConstraint("organization_id", "sequence"),
        Index("ix_custody_entries_organization_id_day", "organization_id", "day"),
    )

    id: Mapped[str] = id_column()
    sequence: Mapped[int] = mapped_column(_BIGINT)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    order_id: Mapped[str] = mapped_column(String(40), index=True)
    parcel_id: Mapped[str | None] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Plain JSON (text on PostgreSQL), not JSONB: JSONB rewrites numbers such as 1e+20, which
    # would change the canonical form and so the hash.
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    day: Mapped[date] = mapped_column(Date)


class LedgerHead(Base):
    """
    The tip of an organization's chain: the row appends lock, so the chain never forks.

    Also what verification compares the chain's end with (a deleted last entry shows here).
    """

    __tablename__ = "ledger_heads"

    organization_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    last_sequence: Mapped[int] = mapped_column(_BIGINT, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    last_day: Mapped[date | None] = mapped_column(Date)
    # Days up to this one have their roots published; no entry may join them any more.
    sealed_through: Mapped[date | None] = mapped_column(Date)


class LedgerRoot(TenantMixin, Base):
    """The signed Merkle root of one organization's entries of one UTC day."""

    __tablename__ = "ledger_roots"
    __table_args__ = (UniqueConstraint("organization_id", "day"),)

    id: Mapped[str] = id_column()
    day: Mapped[date] = mapped_column(Date)
    entry_count: Mapped[int] = mapped_column(Integer)
    first_sequence: Mapped[int] = mapped_column(_BIGINT)
    last_sequence: Mapped[int] = mapped_column(_BIGINT)
    root_hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrganizationKey(TenantMixin, Base):
    """An organization's Ed25519 ledger key; the private half sealed with the secret key."""

    __tablename__ = "organization_keys"

    id: Mapped[str] = id_column()
    public_key: Mapped[str] = mapped_column(String(64))
    private_key_sealed: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

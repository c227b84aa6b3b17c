"""Slot policy, per-window capacity counters and the bookings that hold their places."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lastmile.db.base import Base, TenantMixin, TimestampMixin, UTCDateTime, id_column


class SlotPolicy(TenantMixin, TimestampMixin, Base):
    """An organization's slot rules (``policy.SlotPolicyRules`` as JSON); absent = defaults."""

    __tablename__ = "slot_policies"
    __table_args__ = (UniqueConstraint("organization_id"),)

    id: Mapped[str] = id_column()
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)


class SlotCounter(TenantMixin, Base):
    """Places taken in one window of one depot's area.

    Created on the first booking; ``booked`` only moves through conditional UPDATEs so two
    bookings of the last place cannot both win.
    """

    __tablename__ = "slot_counters"
    __table_args__ = (UniqueConstraint("organization_id", "area_id", "starts_at"),)

    id: Mapped[str] = id_column()
    area_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("depots.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    capacity: Mapped[int] = mapped_column(Integer)


class SlotBooking(TenantMixin, TimestampMixin, Base):
    """The slot an order holds a place in (one per order)."""

    __tablename__ = "slot_bookings"

    id: Mapped[str] = id_column()
    order_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("orders.id", ondelete="CASCADE"), unique=True
    )
    counter_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("slot_counters.id", ondelete="CASCADE"), index=True
    )
    slot_id: Mapped[str] = mapped_column(String(100))

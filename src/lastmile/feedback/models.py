from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lastmile.db.base import Base, TenantMixin, UTCDateTime, enum_type, id_column
from lastmile.kit.clock import utcnow
from lastmile.orders.status import OrderStatus


class Tag(enum.StrEnum):
    """What a customer may say about a delivery with one tap."""

    on_time = "on_time"
    careful = "careful"
    friendly = "friendly"
    late = "late"
    damaged = "damaged"
    wrong_place = "wrong_place"


class Feedback(TenantMixin, Base):
    """One order's rating. Who delivered it, from which hub, in which zone and on which day are
    copied in when it is given, so aggregates need no joins and survive later changes."""

    __tablename__ = "feedback"

    id: Mapped[str] = id_column()
    order_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("orders.id", ondelete="CASCADE"), unique=True
    )
    merchant_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    # The order's status when rated: delivered, or failed.
    order_status: Mapped[OrderStatus] = mapped_column(enum_type(OrderStatus))
    driver_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("drivers.id", ondelete="SET NULL"), index=True
    )
    vehicle_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("vehicles.id", ondelete="SET NULL")
    )
    # The start depot (hub) of the route that carried the order.
    hub_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("depots.id", ondelete="SET NULL"), index=True
    )
    zone: Mapped[str | None] = mapped_column(String(40), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tags: Mapped[list[FeedbackTag]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="FeedbackTag.tag"
    )


class FeedbackTag(TenantMixin, Base):
    """One tag of a rating (a row each, so tags are counted in SQL on both databases)."""

    __tablename__ = "feedback_tags"

    feedback_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[Tag] = mapped_column(enum_type(Tag), primary_key=True)


class FollowUpStatus(enum.StrEnum):
    open = "open"
    resolved = "resolved"


class FollowUp(TenantMixin, Base):
    """A dispatcher's to-do opened by a low rating: call back, make good, learn from it."""

    __tablename__ = "follow_ups"

    id: Mapped[str] = id_column()
    feedback_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("feedback.id", ondelete="CASCADE"), unique=True
    )
    order_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[FollowUpStatus] = mapped_column(enum_type(FollowUpStatus), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)

    feedback: Mapped[Feedback] = relationship(lazy="joined")

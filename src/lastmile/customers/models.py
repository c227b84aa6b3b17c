from __future__ import annotations

from sqlalchemy import JSON, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lastmile.db.base import Base, TenantMixin, TimestampMixin, id_column


class Customer(TenantMixin, TimestampMixin, Base):
    """A recipient. Contact details never leave the organization's own staff and systems."""

    __tablename__ = "customers"

    id: Mapped[str] = id_column()
    # Set when a merchant created the customer: merchants only see their own.
    merchant_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(16), default="en")
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)


class Address(TenantMixin, TimestampMixin, Base):
    """A delivery address; always geocoded (lat/lon) before it is stored."""

    __tablename__ = "addresses"

    id: Mapped[str] = id_column()
    merchant_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    line1: Mapped[str] = mapped_column(String(300))
    line2: Mapped[str | None] = mapped_column(String(300))
    postcode: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    access_notes: Mapped[str | None] = mapped_column(String(1000))

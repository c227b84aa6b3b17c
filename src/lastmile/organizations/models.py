from __future__ import annotations

from sqlalchemy import Boolean, String, false, true
from sqlalchemy.orm import Mapped, mapped_column

from lastmile.db.base import Base, TenantMixin, TimestampMixin, id_column


class Organization(TimestampMixin, Base):
    """A delivery company: the tenant boundary of all data."""

    __tablename__ = "organizations"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")


class Merchant(TenantMixin, TimestampMixin, Base):
    """A shipper that sends orders through the API with its own keys."""

    __tablename__ = "merchants"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # What its customers may ask for on the tracking link (self-service).
    allow_signature_request: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    allow_in_home: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

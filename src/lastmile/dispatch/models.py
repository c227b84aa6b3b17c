from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lastmile.db.base import Base, TenantMixin, UTCDateTime, id_column


class Acknowledgement(TenantMixin, Base):
    """A dispatcher saw an inbox item: it stays hidden while its ``revision`` is unchanged."""

    __tablename__ = "dispatch_acknowledgements"
    __table_args__ = (UniqueConstraint("organization_id", "key"),)

    id: Mapped[str] = id_column()
    key: Mapped[str] = mapped_column(String(120))
    revision: Mapped[str] = mapped_column(String(80))
    actor: Mapped[str] = mapped_column(String(80))
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(500))

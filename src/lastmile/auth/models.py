from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lastmile.db.base import Base, TenantMixin, TimestampMixin, UTCDateTime, enum_type, id_column


class Role(enum.StrEnum):
    admin = "admin"
    dispatcher = "dispatcher"
    driver = "driver"


class User(TenantMixin, TimestampMixin, Base):
    """A person who logs in: an admin, a dispatcher or a driver."""

    __tablename__ = "users"

    id: Mapped[str] = id_column()
    # Emails are unique across the platform, so a login needs no organization name.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ApiKey(TenantMixin, TimestampMixin, Base):
    """A merchant's API key; only a hash of its secret is kept."""

    __tablename__ = "api_keys"

    id: Mapped[str] = id_column()
    merchant_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AccessToken(TenantMixin, TimestampMixin, Base):
    """A bearer token issued at login (hashed at rest)."""

    __tablename__ = "access_tokens"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

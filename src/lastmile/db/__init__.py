"""Storage: engine, unit of work, declarative base and migrations."""

from lastmile.db.base import Base, TenantMixin, TimestampMixin, UTCDateTime
from lastmile.db.engine import Database

__all__ = ["Base", "Database", "TenantMixin", "TimestampMixin", "UTCDateTime"]

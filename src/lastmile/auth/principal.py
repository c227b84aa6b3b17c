"""The authenticated caller of a request and the tenant scope it grants."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from lastmile.auth.models import Role


class Access(enum.StrEnum):
    """What a route may be called by: the user roles, plus merchants' API keys."""

    admin = "admin"
    dispatcher = "dispatcher"
    driver = "driver"
    merchant = "merchant"


STAFF = (Access.admin, Access.dispatcher)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling. Every repository read starts from this scope."""

    organization_id: str
    access: Access
    user_id: str | None = None
    merchant_id: str | None = None
    driver_id: str | None = None
    # Names a background actor (e.g. ``system:tracking``) that acts with ``access`` but is
    # no user.
    system: str | None = None

    @property
    def actor(self) -> str:
        """How the caller is named in histories, e.g. ``user:usr_...``."""
        if self.system is not None:
            return f"system:{self.system}"
        if self.merchant_id and self.access is Access.merchant:
            return f"merchant:{self.merchant_id}"
        return f"user:{self.user_id}"

    @property
    def role(self) -> Role | None:
        return None if self.access is Access.merchant else Role(self.access.value)

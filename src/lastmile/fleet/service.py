"""Rules for fleet resources beyond field validation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lastmile.auth.models import Role
from lastmile.auth.repository import UserRepository
from lastmile.crud import HookContext
from lastmile.fleet.models import Driver
from lastmile.kit.errors import Conflict, Unprocessable, field_error


def check_driver_login(ctx: HookContext, values: dict[str, Any]) -> None:
    """A driver's login must be a ``driver`` user of the same organization, used only once."""
    user_id = values.get("user_id")
    if user_id is None:
        return
    user = UserRepository(ctx.session, ctx.principal).get(user_id)
    if user is None or user.role is not Role.driver:
        raise Unprocessable(
            "user_id must name a user with the driver role",
            errors=[field_error(["user_id"], "not a driver user of this organization")],
        )
    taken = ctx.session.scalars(
        select(Driver.id).where(
            Driver.organization_id == ctx.principal.organization_id, Driver.user_id == user_id
        )
    ).first()
    if taken is not None and taken != ctx.current_id:
        raise Conflict(f"User {user_id} is already the login of driver {taken}.")

"""The customer behind a tracking token, for the routes a customer calls with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Path

from lastmile.deps import SessionDep, SettingsDep
from lastmile.tracking.links import ResolvedLink, resolve_link

Token = Annotated[str, Path(min_length=1, max_length=200, description="The tracking token.")]


def customer_link(token: Token, session: SessionDep, settings: SettingsDep) -> ResolvedLink:
    """The link the token opens: 404 if unknown, 410 once withdrawn or expired."""
    after = timedelta(hours=settings.tracking_link_after_delivery_hours)
    return resolve_link(session, token, after_close=after)


CustomerLink = Annotated[ResolvedLink, Depends(customer_link)]


@dataclass(frozen=True, slots=True)
class LinkScope:
    """A tenant scope for a customer: the organization of their link's order, no merchant."""

    organization_id: str
    merchant_id: str | None = None

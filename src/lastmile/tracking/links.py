"""Tracking links: the customer's unguessable, revocable, expiring key to one order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lastmile.auth.principal import Principal
from lastmile.db.repository import TenantRepository
from lastmile.kit.clock import utcnow
from lastmile.kit.crypto import random_token, sha256_hex
from lastmile.kit.errors import Gone, NotFound
from lastmile.kit.ids import new_id
from lastmile.orders.models import Order, OrderEvent
from lastmile.orders.repository import OrderRepository
from lastmile.orders.status import TERMINAL
from lastmile.tracking.models import TrackingLink

TOKEN_BYTES = 24  # 192 bits from `secrets`; the issue asks for at least 128.
DEFAULT_AFTER_CLOSE = timedelta(hours=72)


class TrackingLinkRepository(TenantRepository[TrackingLink]):
    model = TrackingLink


@dataclass(frozen=True, slots=True)
class IssuedLink:
    link: TrackingLink
    token: str


def issue_link(session: Session, principal: Principal, order_id: str, ttl: timedelta) -> IssuedLink:
    """A new link for an order the caller can see; only the token's hash is kept."""
    order = OrderRepository(session, principal).get(order_id)
    if order is None:
        raise NotFound(f"No order {order_id!r}.")
    token = random_token(TOKEN_BYTES)
    link = TrackingLinkRepository(session, principal).add(
        TrackingLink(
            id=new_id("trk"), order_id=order.id, token_hash=sha256_hex(token),
            created_by=principal.actor, expires_at=utcnow() + ttl,
        )
    )  # fmt: skip
    return IssuedLink(link, token)


def order_links(session: Session, principal: Principal, order_id: str) -> Sequence[TrackingLink]:
    if OrderRepository(session, principal).get(order_id) is None:
        raise NotFound(f"No order {order_id!r}.")
    links = TrackingLinkRepository(session, principal)
    return list(session.scalars(links.scoped().where(TrackingLink.order_id == order_id)))


def revoke_link(session: Session, principal: Principal, link_id: str) -> TrackingLink:
    link = TrackingLinkRepository(session, principal).get(link_id)
    if link is None or OrderRepository(session, principal).get(link.order_id) is None:
        raise NotFound(f"No tracking link {link_id!r}.")
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        session.flush()
    return link


@dataclass(frozen=True, slots=True)
class ResolvedLink:
    link: TrackingLink
    order: Order

    @property
    def order_id(self) -> str:
        return self.link.order_id

    @property
    def organization_id(self) -> str:
        return self.link.organization_id


def resolve_link(
    session: Session,
    token: str,
    *,
    after_close: timedelta = DEFAULT_AFTER_CLOSE,
    now: datetime | None = None,
) -> ResolvedLink:
    """
    The link a customer's token opens, with its order.

    The token is the credential, so this lookup starts from its hash, not from a scope.

    Raises
    ------
    NotFound
        No link has this token.
    Gone
        The link was revoked, passed its expiry, or the order closed (delivered, returned,
        cancelled) more than ``after_close`` ago.
    """
    now = now or utcnow()
    link = session.scalar(select(TrackingLink).where(TrackingLink.token_hash == sha256_hex(token)))
    if link is None:
        raise NotFound("This tracking link does not exist.")
    if link.revoked_at is not None:
        raise Gone("This tracking link was withdrawn.")
    if link.expires_at <= now:
        raise Gone("This tracking link has expired.")
    order = session.scalar(
        select(Order).where(
            Order.id == link.order_id, Order.organization_id == link.organization_id
        )
    )
    if order is None:
        raise NotFound("This tracking link does not exist.")
    if order.status in TERMINAL:
        closed_at = session.scalar(
            select(func.max(OrderEvent.at)).where(
                OrderEvent.order_id == order.id, OrderEvent.to_status == order.status
            )
        )
        if closed_at is not None and closed_at + after_close <= now:
            raise Gone("This delivery is complete and its tracking link has expired.")
    return ResolvedLink(link, order)

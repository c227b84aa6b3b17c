"""Dispatcher actions that belong to other domains, reused rather than rewritten."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from lastmile.auth.principal import Principal
from lastmile.chat.schemas import StaffMessageRead
from lastmile.chat.service import ChatService, staff_message_read, staff_sender
from lastmile.kit.clock import utcnow
from lastmile.orders.service import OrderService
from lastmile.organizations.repository import get_organization
from lastmile.services import Services


def timezone_of(session: Session, principal: Principal) -> ZoneInfo:
    return ZoneInfo(get_organization(session, principal.organization_id).timezone)


def service_day(session: Session, principal: Principal, day: date | None) -> date:
    """``day``, or today in the organization's time zone."""
    return day or utcnow().astimezone(timezone_of(session, principal)).date()


def notify_customer(
    session: Session, principal: Principal, services: Services, order_id: str, message: str
) -> StaffMessageRead:
    """Tell the customer something as a chat message from "Dispatch".

    The chat is the one channel that carries free text to the customer (the notification
    outbox sends fixed templates per event): the message shows on the tracking page, live,
    with the chat's redaction, rate limits and closing rule.
    """
    order = OrderService(session, principal, services).get(order_id)
    chat = ChatService(session, principal, services.settings, services.broker)
    sent, read = chat.post(order, staff_sender(session, principal), message, None)
    return staff_message_read(sent, read)

"""HTTP routes of the order chat: the customer's (by tracking token) and the staff's side."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.orm import Session

from lastmile.auth.principal import STAFF, Access, Principal
from lastmile.chat.customer import CustomerLink, LinkScope
from lastmile.chat.models import Side
from lastmile.chat.quick_replies import TEXTS, QuickReply, language_of
from lastmile.chat.schemas import (
    ConversationRead,
    CustomerMessageCreate,
    MessageRead,
    QuickReplyRead,
    ReadMark,
    ReadState,
    StaffConversationRead,
    StaffMessageCreate,
    StaffMessageRead,
)
from lastmile.chat.service import (
    ChatService,
    ConversationView,
    customer_sender,
    message_read,
    staff_message_read,
    staff_sender,
)
from lastmile.deps import ServicesDep, SessionDep, require
from lastmile.kit.errors import NotFound
from lastmile.orders.models import Order
from lastmile.orders.repository import OrderRepository

router = APIRouter(tags=["chat"])
Staff = Annotated[Principal, Depends(require(*STAFF, Access.driver))]
MessageLimit = Annotated[int, Query(ge=1, le=500, description="How many of the latest messages.")]


def _fields(view: ConversationView) -> dict[str, object]:
    return {
        "order_id": view.order_id,
        "open": view.open,
        "closes_at": view.closes_at,
        "read": view.read,
        "unread": view.unread,
    }


# --- the customer, with the tracking token ----------------------------------------------------


def _customer_chat(link: CustomerLink, session: SessionDep, services: ServicesDep) -> ChatService:
    scope = LinkScope(link.organization_id)
    return ChatService(session, scope, services.settings, services.broker)


CustomerChat = Annotated[ChatService, Depends(_customer_chat)]


@router.get("/v1/self-service/{token}/messages", response_model=ConversationRead)
def customer_conversation(
    link: CustomerLink, chat: CustomerChat, limit: MessageLimit = 100
) -> ConversationRead:
    """The conversation about this delivery with the driver and dispatch, latest messages last.
    Senders show as a role and a first name at most."""
    view = chat.view(link.order, Side.customer, limit)
    messages = [message_read(m, view.read) for m in view.messages]
    return ConversationRead.model_validate({**_fields(view), "messages": messages})


@router.post(
    "/v1/self-service/{token}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageRead,
)
def customer_send(
    payload: CustomerMessageCreate, link: CustomerLink, chat: CustomerChat, session: SessionDep
) -> MessageRead:
    """Write to the driver and dispatch. Phone numbers and e-mail addresses are hidden; 409 once
    the conversation is closed, 429 (with Retry-After) past the rate limit."""
    sender = customer_sender(session, link.order, link.link.id)
    message, read = chat.post(link.order, sender, payload.body, None)
    return message_read(message, read)


@router.post("/v1/self-service/{token}/messages/read", response_model=ReadState)
def customer_read(
    link: CustomerLink, chat: CustomerChat, payload: ReadMark | None = None
) -> ReadState:
    """Tell the driver and dispatch the customer has read their messages (up to `up_to`)."""
    up_to, at = chat.mark_read(link.order, Side.customer, payload.up_to if payload else None)
    return ReadState(side=Side.customer, up_to=up_to, at=at)


# --- the driver of the order, dispatchers and admins -------------------------------------------


def _staff_chat(session: SessionDep, services: ServicesDep, principal: Staff) -> ChatService:
    return ChatService(session, principal, services.settings, services.broker)


StaffChat = Annotated[ChatService, Depends(_staff_chat)]


# Looked up in the route, not as a dependency, so a bad body is refused (422) before it.
def _order(session: Session, principal: Principal, order_id: str) -> Order:
    """The order if the caller may see it: drivers only the orders assigned to them."""
    order = OrderRepository(session, principal).get(order_id)
    if order is None:
        raise NotFound(f"No order {order_id!r}.")
    return order


@router.get("/v1/orders/{order_id}/messages", response_model=StaffConversationRead)
def staff_conversation(
    order_id: str, chat: StaffChat, session: SessionDep, principal: Staff, limit: MessageLimit = 100
) -> StaffConversationRead:
    """The order's conversation with its customer (the assigned driver, dispatchers, admins)."""
    view = chat.view(_order(session, principal, order_id), Side.staff, limit)
    messages = [staff_message_read(m, view.read) for m in view.messages]
    return StaffConversationRead.model_validate({**_fields(view), "messages": messages})


@router.post(
    "/v1/orders/{order_id}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=StaffMessageRead,
)
def staff_send(
    order_id: str, payload: StaffMessageCreate, chat: StaffChat, session: SessionDep,
    principal: Staff,
) -> StaffMessageRead:  # fmt: skip
    """Write to the customer: a `body`, or a `quick_reply` code sent in the customer's language.
    The customer sees a driver's first name, or "Dispatch"; never a phone number or e-mail."""
    order = _order(session, principal, order_id)
    message, read = chat.post(
        order, staff_sender(session, principal), payload.body, payload.quick_reply
    )
    return staff_message_read(message, read)


@router.post("/v1/orders/{order_id}/messages/read", response_model=ReadState)
def staff_read(
    order_id: str, chat: StaffChat, session: SessionDep, principal: Staff,
    payload: ReadMark | None = None,
) -> ReadState:  # fmt: skip
    """Tell the customer their messages were read (up to `up_to`)."""
    order = _order(session, principal, order_id)
    up_to, at = chat.mark_read(order, Side.staff, payload.up_to if payload else None)
    return ReadState(side=Side.staff, up_to=up_to, at=at)


@router.get("/v1/chat/quick-replies", response_model=list[QuickReplyRead])
def quick_replies(
    principal: Staff,
    language: Annotated[
        str, Query(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$", description="e.g. `pt` or `en-GB`.")
    ] = "en",
) -> list[QuickReplyRead]:
    """The quick replies drivers can send (`quick_reply` of a message), with their text in
    `language` (English where there is no translation). Customers get them in their own."""
    texts = TEXTS[language_of(language)]
    return [QuickReplyRead(code=code, text=texts[code]) for code in QuickReply]

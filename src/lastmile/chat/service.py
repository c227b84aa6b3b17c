"""Chat rules: who may write, when the conversation closes, rate limits and read receipts."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lastmile.auth.principal import Access, Principal
from lastmile.chat.models import ChatMessage, Conversation, SenderRole, Side
from lastmile.chat.quick_replies import QuickReply, quick_reply_text
from lastmile.chat.redact import redact
from lastmile.chat.repository import ConversationRepository, MessageRepository
from lastmile.chat.schemas import MessageRead, ReadPointers, SenderRead, StaffMessageRead
from lastmile.config import Settings
from lastmile.customers.models import Customer
from lastmile.db.engine import after_commit
from lastmile.db.repository import TenantScope
from lastmile.fleet.models import Driver
from lastmile.kit.clock import iso_z, utcnow
from lastmile.kit.errors import Conflict, Problem, Unprocessable, field_error
from lastmile.kit.ids import new_id
from lastmile.live.broker import Broker
from lastmile.live.channels import fleet_channel, order_channel
from lastmile.live.events import LiveEvent
from lastmile.orders.models import Order, OrderEvent
from lastmile.orders.status import OrderStatus

# Once an order reaches one of these, its conversation closes after chat_close_after_hours.
CLOSING = frozenset(
    {OrderStatus.delivered, OrderStatus.failed, OrderStatus.cancelled, OrderStatus.returned}
)
NAME_LENGTH = 60


class RateLimited(Problem):
    status, slug, title = 429, "rate-limited", "Too many requests"


@dataclass(frozen=True, slots=True)
class Sender:
    """Who writes a message, as stored: role, id (never shown to the other side), first name."""

    role: SenderRole
    id: str | None
    name: str | None


def first_name(full_name: str | None) -> str | None:
    """The first word of a name, or None if it looks like contact details (an e-mail as name)."""
    words = (full_name or "").split()
    if not words:
        return None
    first = words[0][:NAME_LENGTH]
    return first if redact(first) == first else None


def customer_sender(session: Session, order: Order, link_id: str) -> Sender:
    customer = session.get(Customer, order.customer_id)
    return Sender(SenderRole.customer, link_id, first_name(customer.name if customer else None))


def staff_sender(session: Session, principal: Principal) -> Sender:
    """A driver writes under their first name; dispatchers and admins as Dispatch, unnamed."""
    if principal.access is Access.driver:
        driver = session.get(Driver, principal.driver_id) if principal.driver_id else None
        name = first_name(driver.name if driver else None)
        return Sender(SenderRole.driver, principal.user_id, name)
    return Sender(SenderRole.dispatcher, principal.user_id, None)


@dataclass(frozen=True, slots=True)
class ConversationView:
    order_id: str
    open: bool
    closes_at: datetime | None
    read: ReadPointers
    unread: int
    messages: list[ChatMessage]


def message_read(message: ChatMessage, read: ReadPointers) -> MessageRead:
    """A message for either side: read means its recipient's pointer has passed it."""
    side = message.sender_role.side
    recipient_seq = read.staff if side is Side.customer else read.customer
    return MessageRead(
        id=message.id,
        seq=message.seq,
        side=side,
        sender=SenderRead(role=message.sender_role, name=message.sender_name),
        body=message.body,
        quick_reply=QuickReply(message.quick_reply) if message.quick_reply else None,
        created_at=message.created_at,
        read=message.seq <= recipient_seq,
    )


def staff_message_read(message: ChatMessage, read: ReadPointers) -> StaffMessageRead:
    """A message for the driver and dispatch: a staff message also names its writer."""
    sender_id = message.sender_id if message.sender_role.side is Side.staff else None
    return StaffMessageRead(**message_read(message, read).model_dump(), sender_id=sender_id)


def pointers(conversation: Conversation | None) -> ReadPointers:
    if conversation is None:
        return ReadPointers(customer=0, staff=0)
    return ReadPointers(customer=conversation.customer_read_seq, staff=conversation.staff_read_seq)


class ChatService:
    """Business rules of one order's conversation. Never commits: the caller's unit of work does.

    The caller has already checked that it may see ``order`` (token or tenant scope).
    """

    def __init__(
        self, session: Session, scope: TenantScope, settings: Settings, broker: Broker
    ) -> None:
        self.session = session
        self.settings = settings
        self.broker = broker
        self.conversations = ConversationRepository(session, scope)
        self.messages = MessageRepository(session, scope)

    def closes_at(self, order: Order) -> datetime | None:
        """When the order's conversation turns read-only; None while the order is under way."""
        if order.status not in CLOSING:
            return None
        closed = self.session.scalar(
            select(func.max(OrderEvent.at)).where(
                OrderEvent.order_id == order.id, OrderEvent.to_status == order.status
            )
        )
        return (closed or order.updated_at) + timedelta(hours=self.settings.chat_close_after_hours)

    def view(self, order: Order, viewer: Side, limit: int) -> ConversationView:
        conversation = self.conversations.for_order(order.id)
        closes_at = self.closes_at(order)
        read = pointers(conversation)
        messages: list[ChatMessage] = []
        unread = 0
        if conversation is not None:
            messages = self.messages.latest(conversation.id, limit)
            own = read.customer if viewer is Side.customer else read.staff
            other = Side.staff if viewer is Side.customer else Side.customer
            unread = self.messages.count_after(conversation.id, other, own)
        is_open = closes_at is None or utcnow() < closes_at
        return ConversationView(order.id, is_open, closes_at, read, unread, messages)

    def post(
        self, order: Order, sender: Sender, body: str | None, quick_reply: QuickReply | None
    ) -> tuple[ChatMessage, ReadPointers]:
        """Add a message (a quick reply is sent in the customer's language); 409 once closed,
        429 past the rate limit of the sender's side."""
        text = self._text(order, sender, body, quick_reply)
        now = utcnow()
        closes_at = self.closes_at(order)
        if closes_at is not None and now >= closes_at:
            raise Conflict("This conversation is closed: the delivery is over.")
        conversation = self.conversations.open_for_order(order.id)
        self._check_rate(conversation, sender.role.side, now)
        conversation.last_seq += 1
        message = self.messages.add(
            ChatMessage(
                id=new_id("msg"), conversation_id=conversation.id, seq=conversation.last_seq,
                sender_role=sender.role, sender_id=sender.id, sender_name=sender.name,
                body=text, quick_reply=quick_reply.value if quick_reply else None,
                created_at=now,
            )
        )  # fmt: skip
        read = pointers(conversation)
        self._announce(
            order,
            "message",
            message_read(message, read).model_dump(mode="json"),
            staff_message_read(message, read).model_dump(mode="json"),
        )
        return message, read

    def mark_read(self, order: Order, side: Side, up_to: int | None) -> tuple[int, datetime | None]:
        """Move ``side``'s read receipt up to ``up_to`` (default: everything so far); never back.

        Returns the receipt: the highest ``seq`` read, and when it last moved.
        """
        conversation = self.conversations.for_order(order.id, lock=True)
        if conversation is None:
            return 0, None
        target = conversation.last_seq if up_to is None else min(up_to, conversation.last_seq)
        attr = "customer" if side is Side.customer else "staff"
        if target > getattr(conversation, f"{attr}_read_seq"):
            now = utcnow()
            setattr(conversation, f"{attr}_read_seq", target)
            setattr(conversation, f"{attr}_read_at", now)
            self.session.flush()
            data = {"side": side.value, "up_to": target, "at": iso_z(now)}
            self._announce(order, "read", data, data)
        return getattr(conversation, f"{attr}_read_seq"), getattr(conversation, f"{attr}_read_at")

    def _text(
        self, order: Order, sender: Sender, body: str | None, quick_reply: QuickReply | None
    ) -> str:
        if (body is None) == (quick_reply is None):
            raise Unprocessable(
                "Send either a body or a quick_reply.",
                errors=[field_error(["body"], "send either a body or a quick_reply")],
            )
        if quick_reply is not None:
            customer = self.session.get(Customer, order.customer_id)
            return quick_reply_text(quick_reply, customer.language if customer else None)
        assert body is not None
        return redact(body)

    def _check_rate(self, conversation: Conversation, side: Side, now: datetime) -> None:
        """429 if ``side`` already sent its allowance within the last minute or day.

        Runs under the conversation's row lock, so concurrent sends cannot both slip through.
        """
        limits = (
            (timedelta(minutes=1), self.settings.chat_messages_per_minute, "minute"),
            (timedelta(days=1), self.settings.chat_messages_per_day, "day"),
        )
        for window, allowance, name in limits:
            times = self.messages.recent_times(conversation.id, side, now - window, allowance)
            if len(times) >= allowance:
                # A message may go again once the oldest of those leaves the window.
                wait = max(1, math.ceil((times[-1] + window - now).total_seconds()))
                raise RateLimited(
                    f"At most {allowance} messages per {name}; try again in {wait} s.",
                    headers={"Retry-After": str(wait)},
                )

    def _announce(
        self, order: Order, kind: str, customer_data: Mapping[str, object],
        staff_data: Mapping[str, object],
    ) -> None:  # fmt: skip
        """Publish to the customer's stream and the fleet's once the unit of work commits."""
        items = [
            (order_channel(order.id), LiveEvent(kind, {"order_id": order.id, **customer_data})),
            (fleet_channel(order.organization_id),
             LiveEvent(kind, {"order_id": order.id, **staff_data})),
        ]  # fmt: skip
        broker = self.broker
        after_commit(self.session, lambda: broker.publish_many(items))

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lastmile.db.base import Base, TenantMixin, UTCDateTime, enum_type, id_column
from lastmile.kit.clock import utcnow


class Side(enum.StrEnum):
    """The two sides of a conversation: the recipient, and the delivery team."""

    customer = "customer"
    staff = "staff"


class SenderRole(enum.StrEnum):
    customer = "customer"
    driver = "driver"
    dispatcher = "dispatcher"  # dispatchers and admins answer as "Dispatch"

    @property
    def side(self) -> Side:
        return Side.customer if self is SenderRole.customer else Side.staff


class Conversation(TenantMixin, Base):
    """The one conversation of an order, created with its first message.

    Messages are numbered per conversation (``seq``); each side's read receipt is the highest
    number it has read, so "read" means the same on both databases and never depends on clocks.
    """

    __tablename__ = "conversations"

    id: Mapped[str] = id_column()
    order_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("orders.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    customer_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    customer_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    staff_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    staff_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ChatMessage(TenantMixin, Base):
    """One message, stored as the other side sees it (phone numbers and e-mails redacted)."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        Index("ix_chat_messages_created_at", "created_at"),
    )

    id: Mapped[str] = id_column()
    conversation_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("conversations.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    sender_role: Mapped[SenderRole] = mapped_column(enum_type(SenderRole))
    # The user (staff) or tracking link (customer) that wrote it; never shown to the other side.
    sender_id: Mapped[str | None] = mapped_column(String(40))
    # What the other side may call the sender: a first name at most.
    sender_name: Mapped[str | None] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)
    quick_reply: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

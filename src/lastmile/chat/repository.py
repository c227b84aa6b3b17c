from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, exists, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lastmile.chat.models import ChatMessage, Conversation, SenderRole, Side
from lastmile.db.repository import TenantRepository
from lastmile.kit.ids import new_id


class ConversationRepository(TenantRepository[Conversation]):
    model = Conversation

    def for_order(self, order_id: str, *, lock: bool = False) -> Conversation | None:
        """The order's conversation; ``lock`` holds its row until commit (PostgreSQL), so
        numbering, rate counting and read receipts of one conversation happen one at a time."""
        stmt = self.scoped().where(Conversation.order_id == order_id)
        if lock:
            stmt = stmt.with_for_update()
        return self.session.scalar(stmt)

    def open_for_order(self, order_id: str) -> Conversation:
        """The order's conversation, locked; created if this is its first message."""
        found = self.for_order(order_id, lock=True)
        if found is not None:
            return found
        try:
            with self.session.begin_nested():
                return self.add(Conversation(id=new_id("cnv"), order_id=order_id))
        except IntegrityError:  # a concurrent first message created it
            found = self.for_order(order_id, lock=True)
            assert found is not None
            return found


def _sent_by(side: Side) -> ColumnElement[bool]:
    if side is Side.customer:
        return ChatMessage.sender_role == SenderRole.customer
    return ChatMessage.sender_role != SenderRole.customer


class MessageRepository(TenantRepository[ChatMessage]):
    model = ChatMessage

    def latest(self, conversation_id: str, limit: int) -> list[ChatMessage]:
        """The last ``limit`` messages, oldest first."""
        stmt = (
            self.scoped()
            .where(ChatMessage.conversation_id == conversation_id)
            .order_by(ChatMessage.seq.desc())
            .limit(limit)
        )
        return list(reversed(self.session.scalars(stmt).all()))

    def count_after(self, conversation_id: str, side: Side, seq: int) -> int:
        """How many of ``side``'s messages come after ``seq``."""
        stmt = self.scoped().where(
            ChatMessage.conversation_id == conversation_id, ChatMessage.seq > seq, _sent_by(side)
        )
        return int(self.session.scalar(stmt.with_only_columns(func.count())) or 0)

    def recent_times(
        self, conversation_id: str, side: Side, since: datetime, limit: int
    ) -> Sequence[datetime]:
        """Send times of ``side``'s messages after ``since``, newest first, at most ``limit``."""
        stmt = (
            self.scoped()
            .where(
                ChatMessage.conversation_id == conversation_id,
                ChatMessage.created_at > since,
                _sent_by(side),
            )
            .with_only_columns(ChatMessage.created_at)
            .order_by(ChatMessage.created_at.desc())
            .limit(limit)
        )
        return self.session.scalars(stmt).all()


def purge_messages(session: Session, before: datetime) -> int:
    """Delete messages sent before ``before`` (all tenants), then conversations left empty.

    Returns how many messages went.
    """
    result = session.execute(delete(ChatMessage).where(ChatMessage.created_at < before))
    session.execute(
        delete(Conversation).where(
            Conversation.created_at < before,
            ~exists().where(ChatMessage.conversation_id == Conversation.id),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)

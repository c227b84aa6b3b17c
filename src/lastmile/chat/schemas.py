from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from lastmile.chat.models import SenderRole, Side
from lastmile.chat.quick_replies import QuickReply

MAX_BODY = 1000

Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_BODY)]


class CustomerMessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Body = Field(description="The message; phone numbers and e-mails are hidden.")


class StaffMessageCreate(BaseModel):
    """A message from the driver or dispatch: its text, or the code of a quick reply."""

    model_config = ConfigDict(extra="forbid")

    body: Body | None = Field(
        default=None, description="The message; phone numbers and e-mails are hidden."
    )
    quick_reply: QuickReply | None = Field(
        default=None,
        description="Send this quick reply in the customer's language instead of a body.",
    )


class ReadMark(BaseModel):
    model_config = ConfigDict(extra="forbid")

    up_to: int | None = Field(
        default=None, ge=0, description="Highest `seq` read; all messages so far if left out."
    )


class SenderRead(BaseModel):
    role: SenderRole
    name: str | None = Field(description="A first name at most; dispatch has none.")


class MessageRead(BaseModel):
    """A message as either side may see it: no sender id, no contact details."""

    id: str
    seq: int = Field(description="Position in the conversation, from 1.")
    side: Side
    sender: SenderRead
    body: str
    quick_reply: QuickReply | None
    created_at: datetime
    read: bool = Field(description="Whether the other side has read it.")


class StaffMessageRead(MessageRead):
    sender_id: str | None = Field(description="The user who wrote a staff message.")


class ReadPointers(BaseModel):
    customer: int = Field(description="Highest `seq` the customer has read.")
    staff: int = Field(description="Highest `seq` the driver or dispatch has read.")


class ConversationFields(BaseModel):
    order_id: str
    open: bool = Field(description="Whether new messages are accepted.")
    closes_at: datetime | None = Field(
        description="When the conversation turns read-only (set once the order is closed)."
    )
    read: ReadPointers
    unread: int = Field(description="Messages from the other side the caller has not read.")


class ConversationRead(ConversationFields):
    messages: list[MessageRead]


class StaffConversationRead(ConversationFields):
    messages: list[StaffMessageRead]


class ReadState(BaseModel):
    side: Side
    up_to: int
    at: datetime | None


class QuickReplyRead(BaseModel):
    code: QuickReply
    text: str

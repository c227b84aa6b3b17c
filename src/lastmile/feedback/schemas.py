from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from lastmile.feedback.models import FollowUpStatus, Tag
from lastmile.orders.status import OrderStatus

Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]


class FeedbackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: int = Field(ge=1, le=5, description="1 (poor) to 5 (excellent).")
    tags: list[Tag] = Field(default_factory=list, max_length=len(Tag))
    comment: Comment | None = None

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, tags: list[Tag]) -> list[Tag]:
        if len(set(tags)) != len(tags):
            raise ValueError("tags must not repeat")
        return tags

    @field_validator("comment")
    @classmethod
    def _blank_is_none(cls, comment: str | None) -> str | None:
        return comment or None


class CustomerFeedbackRead(BaseModel):
    rating: int
    tags: list[Tag]
    comment: str | None
    created_at: datetime


class FeedbackState(BaseModel):
    """What the customer's rating form needs: may they rate now, and what they gave."""

    can_rate: bool
    reason: str | None = Field(description="Why not, when they may not.")
    feedback: CustomerFeedbackRead | None


class FeedbackRead(CustomerFeedbackRead):
    id: str
    order_id: str
    order_status: OrderStatus
    driver_id: str | None
    vehicle_id: str | None
    hub_id: str | None
    zone: str | None
    day: date


class GroupBy(enum.StrEnum):
    driver = "driver"
    hub = "hub"
    zone = "zone"
    day = "day"


class FeedbackGroup(BaseModel):
    key: str | None = Field(description="Driver or hub id, zone, or ISO day; null: none known.")
    label: str | None = Field(description="The driver's or hub's name, the zone or the day.")
    count: int
    mean_rating: float
    distribution: dict[str, int] = Field(description="Ratings given, by stars ('1' to '5').")
    tags: dict[str, int] = Field(description="How often each tag was given.")


class FeedbackSummary(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    group_by: GroupBy
    from_: date | None = Field(alias="from")
    to: date | None
    groups: list[FeedbackGroup]


class FollowUpRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str
    feedback_id: str
    status: FollowUpStatus
    reason: str
    rating: int
    tags: list[Tag]
    comment: str | None
    driver_id: str | None
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    note: str | None


class FollowUpResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]

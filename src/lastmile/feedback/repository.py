from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, func

from lastmile.db.repository import TenantRepository
from lastmile.feedback.models import Feedback, FeedbackTag, FollowUp, FollowUpStatus, Tag
from lastmile.feedback.schemas import GroupBy

GROUP_COLUMNS = {
    GroupBy.driver: Feedback.driver_id,
    GroupBy.hub: Feedback.hub_id,
    GroupBy.zone: Feedback.zone,
    GroupBy.day: Feedback.day,
}


class FeedbackRepository(TenantRepository[Feedback]):
    model = Feedback

    def for_order(self, order_id: str) -> Feedback | None:
        return self.session.scalar(self.scoped().where(Feedback.order_id == order_id))

    def _between(self, first: date | None, last: date | None) -> Select[Any]:
        stmt: Select[Any] = self.scoped()
        if first is not None:
            stmt = stmt.where(Feedback.day >= first)
        if last is not None:
            stmt = stmt.where(Feedback.day <= last)
        return stmt

    def rating_counts(
        self, group_by: GroupBy, first: date | None, last: date | None
    ) -> list[tuple[Any, int, int]]:
        """(group key, rating, how many) for the ratings of days ``first`` to ``last``."""
        column = GROUP_COLUMNS[group_by]
        stmt = (
            self._between(first, last)
            .with_only_columns(column, Feedback.rating, func.count())
            .group_by(column, Feedback.rating)
        )
        return [(key, int(rating), int(n)) for key, rating, n in self.session.execute(stmt)]

    def tag_counts(
        self, group_by: GroupBy, first: date | None, last: date | None
    ) -> list[tuple[Any, Tag, int]]:
        """(group key, tag, how many) for the ratings of days ``first`` to ``last``."""
        column = GROUP_COLUMNS[group_by]
        stmt = (
            self._between(first, last)
            .join(FeedbackTag, FeedbackTag.feedback_id == Feedback.id)
            .with_only_columns(column, FeedbackTag.tag, func.count())
            .group_by(column, FeedbackTag.tag)
        )
        return [(key, Tag(tag), int(n)) for key, tag, n in self.session.execute(stmt)]


class FollowUpRepository(TenantRepository[FollowUp]):
    model = FollowUp

    def with_status(self, status: FollowUpStatus | None) -> Select[FollowUp]:
        return self.matching({"status": status})

    def locked(self, follow_up_id: str) -> FollowUp | None:
        """The follow-up, its row held until commit so two resolutions cannot both pass."""
        stmt = self.scoped().where(FollowUp.id == follow_up_id).with_for_update(of=FollowUp)
        return self.session.scalar(stmt)

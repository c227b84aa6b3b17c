"""Feedback rules: when an order may be rated, once only; aggregates; low-rating follow-ups."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lastmile.config import Settings
from lastmile.db.engine import after_commit
from lastmile.db.repository import TenantScope
from lastmile.feedback.models import Feedback, FeedbackTag, FollowUp, FollowUpStatus, Tag
from lastmile.feedback.repository import FeedbackRepository, FollowUpRepository
from lastmile.feedback.schemas import FeedbackCreate, FeedbackGroup, FollowUpRead, GroupBy
from lastmile.fleet.models import Depot, Driver
from lastmile.kit.clock import utcnow
from lastmile.kit.errors import Conflict, NotFound
from lastmile.kit.ids import new_id
from lastmile.kit.pagination import Paged
from lastmile.live.broker import Broker
from lastmile.live.channels import fleet_channel
from lastmile.live.events import LiveEvent
from lastmile.orders.models import Order
from lastmile.orders.status import OrderStatus
from lastmile.planning.models import Route

RATEABLE = frozenset({OrderStatus.delivered, OrderStatus.failed})
STARS = range(1, 6)


def follow_up_read(follow_up: FollowUp) -> FollowUpRead:
    feedback = follow_up.feedback
    return FollowUpRead(
        id=follow_up.id, order_id=follow_up.order_id, feedback_id=follow_up.feedback_id,
        status=follow_up.status, reason=follow_up.reason, rating=feedback.rating,
        tags=[t.tag for t in feedback.tags], comment=feedback.comment,
        driver_id=feedback.driver_id, created_at=follow_up.created_at,
        resolved_at=follow_up.resolved_at, resolved_by=follow_up.resolved_by,
        note=follow_up.note,
    )  # fmt: skip


class FeedbackService:
    """Business rules for ratings. Never commits: the caller's unit of work does.

    Methods that take an ``order`` expect the caller to have checked it may see it.
    """

    def __init__(
        self, session: Session, scope: TenantScope, settings: Settings, broker: Broker
    ) -> None:
        self.session = session
        self.settings = settings
        self.broker = broker
        self.feedback = FeedbackRepository(session, scope)
        self.follow_ups = FollowUpRepository(session, scope)

    def refusal(self, order: Order) -> str | None:
        """Why the order cannot be rated now, or None if it can."""
        if self.feedback.for_order(order.id) is not None:
            return "This delivery has already been rated."
        if order.status not in RATEABLE:
            return "You can rate this delivery once it has been delivered (or attempted)."
        return None

    def for_order(self, order: Order) -> Feedback:
        feedback = self.feedback.for_order(order.id)
        if feedback is None:
            raise NotFound(f"Order {order.id!r} has not been rated.")
        return feedback

    def submit(self, order: Order, payload: FeedbackCreate) -> Feedback:
        """Record the customer's one rating; a low one opens a follow-up for dispatch."""
        reason = self.refusal(order)
        if reason is not None:
            raise Conflict(reason)
        route = (
            self.session.scalar(
                select(Route).where(
                    Route.id == order.route_id, Route.organization_id == order.organization_id
                )
            )
            if order.route_id
            else None
        )
        feedback = Feedback(
            id=new_id("fbk"), order_id=order.id, merchant_id=order.merchant_id,
            rating=payload.rating, comment=payload.comment, order_status=order.status,
            driver_id=order.driver_id, vehicle_id=order.vehicle_id,
            hub_id=route.start_depot_id if route else None, zone=order.zone,
            day=order.service_date, created_at=utcnow(),
            tags=[FeedbackTag(organization_id=order.organization_id, tag=t) for t in payload.tags],
        )  # fmt: skip
        try:
            with self.session.begin_nested():
                self.feedback.add(feedback)
        except IntegrityError as exc:  # a concurrent first rating won
            raise Conflict("This delivery has already been rated.") from exc
        if payload.rating <= self.settings.feedback_follow_up_max_rating:
            self._open_follow_up(order, feedback)
        return feedback

    def _open_follow_up(self, order: Order, feedback: Feedback) -> None:
        follow_up = self.follow_ups.add(
            FollowUp(
                id=new_id("fup"), feedback_id=feedback.id, order_id=order.id,
                status=FollowUpStatus.open, reason=f"Rated {feedback.rating} of 5",
                created_at=feedback.created_at, feedback=feedback,
            )
        )  # fmt: skip
        self._announce(follow_up)

    def summary(
        self, group_by: GroupBy, first: date | None, last: date | None
    ) -> list[FeedbackGroup]:
        """Per group: how many ratings, their mean, how many of each star and of each tag."""
        stars: dict[Any, dict[int, int]] = defaultdict(lambda: dict.fromkeys(STARS, 0))
        for key, rating, n in self.feedback.rating_counts(group_by, first, last):
            stars[key][rating] += n
        tags: dict[Any, dict[Tag, int]] = defaultdict(lambda: dict.fromkeys(Tag, 0))
        for key, tag, n in self.feedback.tag_counts(group_by, first, last):
            tags[key][tag] += n
        labels = self._labels(group_by, [k for k in stars if k is not None])
        groups = []
        for key, counts in stars.items():
            total = sum(counts.values())
            text = None if key is None else str(key.isoformat() if group_by is GroupBy.day else key)
            groups.append(
                FeedbackGroup(
                    key=text, label=labels.get(key, text), count=total,
                    mean_rating=round(sum(r * n for r, n in counts.items()) / total, 2),
                    distribution={str(r): n for r, n in counts.items()},
                    tags={t.value: n for t, n in tags[key].items()},
                )
            )  # fmt: skip
        return sorted(groups, key=lambda g: (g.key is None, g.key or ""))

    def _labels(self, group_by: GroupBy, keys: list[Any]) -> dict[Any, str]:
        """Names for driver and hub ids (zones and days are their own label)."""
        named: dict[GroupBy, type[Driver] | type[Depot]] = {
            GroupBy.driver: Driver, GroupBy.hub: Depot
        }  # fmt: skip
        model = named.get(group_by)
        if model is None or not keys:
            return {}
        rows = self.session.execute(
            select(model.id, model.name).where(
                model.id.in_(keys), model.organization_id == self.feedback.scope.organization_id
            )
        )
        return {id_: name for id_, name in rows}

    def list_follow_ups(
        self, status: FollowUpStatus | None, *, cursor: str | None, limit: int
    ) -> Paged[FollowUp]:
        stmt = self.follow_ups.with_status(status)
        return self.follow_ups.page(stmt, cursor=cursor, limit=limit)

    def resolve(self, follow_up_id: str, note: str, actor: str) -> FollowUp:
        follow_up = self.follow_ups.locked(follow_up_id)
        if follow_up is None:
            raise NotFound(f"No follow-up {follow_up_id!r}.")
        if follow_up.status is FollowUpStatus.resolved:
            raise Conflict("This follow-up is already resolved.")
        follow_up.status = FollowUpStatus.resolved
        follow_up.resolved_at = utcnow()
        follow_up.resolved_by = actor
        follow_up.note = note
        self.session.flush()
        self._announce(follow_up)
        return follow_up

    def _announce(self, follow_up: FollowUp) -> None:
        """Tell dispatch (the fleet stream) once the unit of work commits."""
        event = LiveEvent("follow_up", follow_up_read(follow_up).model_dump(mode="json"))
        channel, broker = fleet_channel(follow_up.organization_id), self.broker
        after_commit(self.session, lambda: broker.publish(channel, event))

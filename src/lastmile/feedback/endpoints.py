"""HTTP routes for ratings: the customer's form (by tracking token), aggregates, follow-ups."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from lastmile.auth.principal import STAFF, Access, Principal
from lastmile.chat.customer import CustomerLink, LinkScope
from lastmile.deps import ServicesDep, SessionDep, require
from lastmile.feedback.models import Feedback, FollowUpStatus
from lastmile.feedback.schemas import (
    CustomerFeedbackRead,
    FeedbackCreate,
    FeedbackRead,
    FeedbackState,
    FeedbackSummary,
    FollowUpRead,
    FollowUpResolve,
    GroupBy,
)
from lastmile.feedback.service import FeedbackService, follow_up_read
from lastmile.kit.errors import NotFound, Unprocessable, field_error
from lastmile.kit.pagination import Cursor, Limit, Page
from lastmile.orders.repository import OrderRepository

router = APIRouter(tags=["feedback"])
Staff = Annotated[Principal, Depends(require(*STAFF))]
Reader = Annotated[Principal, Depends(require(*STAFF, Access.merchant))]


def customer_read(feedback: Feedback) -> CustomerFeedbackRead:
    return CustomerFeedbackRead(
        rating=feedback.rating,
        tags=[t.tag for t in feedback.tags],
        comment=feedback.comment,
        created_at=feedback.created_at,
    )


def feedback_read(feedback: Feedback) -> FeedbackRead:
    return FeedbackRead(
        **customer_read(feedback).model_dump(),
        id=feedback.id, order_id=feedback.order_id, order_status=feedback.order_status,
        driver_id=feedback.driver_id, vehicle_id=feedback.vehicle_id, hub_id=feedback.hub_id,
        zone=feedback.zone, day=feedback.day,
    )  # fmt: skip


# --- the customer, with the tracking token ----------------------------------------------------


def _customer_feedback(
    link: CustomerLink, session: SessionDep, services: ServicesDep
) -> FeedbackService:
    scope = LinkScope(link.organization_id)
    return FeedbackService(session, scope, services.settings, services.broker)


CustomerFeedback = Annotated[FeedbackService, Depends(_customer_feedback)]


@router.get("/v1/self-service/{token}/feedback", response_model=FeedbackState)
def customer_feedback_state(link: CustomerLink, svc: CustomerFeedback) -> FeedbackState:
    """Whether the customer may rate this delivery now (and why not), and the rating given."""
    given = svc.feedback.for_order(link.order_id)
    return FeedbackState(
        can_rate=(reason := svc.refusal(link.order)) is None,
        reason=reason,
        feedback=customer_read(given) if given else None,
    )


@router.post(
    "/v1/self-service/{token}/feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=CustomerFeedbackRead,
)
def customer_rate(
    payload: FeedbackCreate, link: CustomerLink, svc: CustomerFeedback
) -> CustomerFeedbackRead:
    """Rate the delivery 1-5 with tags and a comment: once, after it was delivered or failed
    (409 otherwise). A low rating asks dispatch to follow it up."""
    return customer_read(svc.submit(link.order, payload))


# --- staff and merchants ----------------------------------------------------------------------


def _feedback(session: SessionDep, services: ServicesDep, principal: Reader) -> FeedbackService:
    return FeedbackService(session, principal, services.settings, services.broker)


Feedbacks = Annotated[FeedbackService, Depends(_feedback)]


@router.get("/v1/orders/{order_id}/feedback", response_model=FeedbackRead)
def order_feedback(
    order_id: str, session: SessionDep, principal: Reader, svc: Feedbacks
) -> FeedbackRead:
    """The customer's rating of an order (staff, and the order's merchant); 404 until rated."""
    order = OrderRepository(session, principal).get(order_id)
    if order is None:
        raise NotFound(f"No order {order_id!r}.")
    return feedback_read(svc.for_order(order))


@router.get("/v1/feedback/summary", response_model=FeedbackSummary)
def feedback_summary(
    principal: Staff,
    svc: Feedbacks,
    group_by: GroupBy = GroupBy.driver,
    first: Annotated[date | None, Query(alias="from", description="First day, inclusive.")] = None,
    last: Annotated[date | None, Query(alias="to", description="Last day, inclusive.")] = None,
) -> FeedbackSummary:
    """Ratings per driver, hub (the route's start depot), zone or day of delivery: count, mean,
    stars distribution and tag counts, for the dashboard."""
    if first is not None and last is not None and last < first:
        raise Unprocessable(
            "'to' is before 'from'.", errors=[field_error(["query", "to"], "before 'from'")]
        )
    groups = svc.summary(group_by, first, last)
    return FeedbackSummary(group_by=group_by, from_=first, to=last, groups=groups)


@router.get("/v1/follow-ups", response_model=Page[FollowUpRead])
def list_follow_ups(
    principal: Staff,
    svc: Feedbacks,
    follow_up_status: Annotated[FollowUpStatus | None, Query(alias="status")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[FollowUpRead]:
    """Follow-ups opened by low ratings, oldest first; `status=open` for the dispatcher's list."""
    paged = svc.list_follow_ups(follow_up_status, cursor=cursor, limit=limit)
    return Page.build(paged, follow_up_read)


@router.post("/v1/follow-ups/{follow_up_id}/resolve", response_model=FollowUpRead)
def resolve_follow_up(
    follow_up_id: str, payload: FollowUpResolve, principal: Staff, svc: Feedbacks
) -> FollowUpRead:
    """Close a follow-up with a note on what was done; 409 if it is already resolved."""
    return follow_up_read(svc.resolve(follow_up_id, payload.note, principal.actor))

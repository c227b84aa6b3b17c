"""HTTP routes for customers and live views: tracking links, the order's tracking view, SSE."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from lastmile.auth.principal import STAFF, Access, Principal
from lastmile.auth.service import authenticate
from lastmile.db.engine import Database
from lastmile.deps import SessionDep, SettingsDep, bearer_scheme, get_database, require
from lastmile.kit.errors import Forbidden, NotFound, Unauthorized
from lastmile.live.channels import fleet_channel, order_channel
from lastmile.live.events import LiveEvent
from lastmile.live.sse import LiveStreamResponse, sse_response
from lastmile.tracking.ingest import position_payload
from lastmile.tracking.links import issue_link, order_links, resolve_link, revoke_link
from lastmile.tracking.runtime import TrackingRuntime
from lastmile.tracking.view import customer_snapshot

router = APIRouter(tags=["tracking"])
LinkIssuer = Annotated[Principal, Depends(require(*STAFF, Access.merchant))]


async def get_tracking(request: Request) -> TrackingRuntime:
    runtime: TrackingRuntime = request.app.state.tracking
    return runtime


Tracking = Annotated[TrackingRuntime, Depends(get_tracking)]


class TrackingLinkRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class TrackingLinkIssued(TrackingLinkRead):
    token: str
    url: str


@router.post(
    "/v1/orders/{order_id}/tracking-links",
    status_code=status.HTTP_201_CREATED,
    response_model=TrackingLinkIssued,
)
def create_tracking_link(
    order_id: str, session: SessionDep, principal: LinkIssuer, settings: SettingsDep,
    response: Response,
) -> TrackingLinkIssued:  # fmt: skip
    """Issue a private tracking link for the order's recipient. The token is shown once (only
    its hash is kept); it expires after `tracking_link_ttl_days` or a while after delivery."""
    issued = issue_link(
        session, principal, order_id, timedelta(days=settings.tracking_link_ttl_days)
    )
    response.headers["Cache-Control"] = "no-store"
    return TrackingLinkIssued(
        **TrackingLinkRead.model_validate(issued.link).model_dump(),
        token=issued.token,
        url=f"{settings.base_url.rstrip('/')}/t/{issued.token}",
    )


@router.get("/v1/orders/{order_id}/tracking-links", response_model=list[TrackingLinkRead])
def list_tracking_links(
    order_id: str, session: SessionDep, principal: LinkIssuer
) -> list[TrackingLinkRead]:
    return [TrackingLinkRead.model_validate(x) for x in order_links(session, principal, order_id)]


@router.delete("/v1/tracking-links/{link_id}", response_model=TrackingLinkRead)
def revoke_tracking_link(
    link_id: str, session: SessionDep, principal: LinkIssuer
) -> TrackingLinkRead:
    """Withdraw a link at once (e.g. it was forwarded to the wrong person)."""
    return TrackingLinkRead.model_validate(revoke_link(session, principal, link_id))


def _snapshot(
    db: Database, runtime: TrackingRuntime, token: str, order_id: str | None = None
) -> dict[str, Any]:
    settings = runtime.settings
    after = timedelta(hours=settings.tracking_link_after_delivery_hours)
    with db.unit_of_work(readonly=True) as session:
        resolved = resolve_link(session, token, after_close=after)
        if order_id is not None and resolved.order_id != order_id:
            # Another order's token: answer as if the link did not exist.
            raise NotFound("This tracking link does not exist.")
        return customer_snapshot(
            session,
            resolved.order,
            runtime.latest,
            live_url=f"/v1/live/orders/{resolved.order_id}?token={token}",
            tiles={"url": settings.tile_url, "attribution": settings.tile_attribution},
        )


@router.get("/v1/tracking/{token}")
def read_tracking(
    token: str, db: Annotated[Database, Depends(get_database)], runtime: Tracking
) -> dict[str, Any]:
    """The customer's view of one order: status, ETA window, stops before theirs, the driver
    (only while heading to this stop), the timeline and the delivery preferences."""
    return _snapshot(db, runtime, token)


def _order_stream_token(
    order_id: str,
    token: Annotated[str, Query(min_length=16, max_length=128)],
    db: Annotated[Database, Depends(get_database)],
    runtime: Tracking,
) -> str:
    """Check the token before the stream starts, so refusals are proper HTTP answers."""
    after = timedelta(hours=runtime.settings.tracking_link_after_delivery_hours)
    with db.unit_of_work(readonly=True) as session:
        if resolve_link(session, token, after_close=after).order_id != order_id:
            # Another order's token: answer as if the link did not exist.
            raise NotFound("This tracking link does not exist.")
    return token


@router.get("/v1/live/orders/{order_id}", response_class=LiveStreamResponse)
async def live_order(
    order_id: str,
    token: Annotated[str, Depends(_order_stream_token)],
    db: Annotated[Database, Depends(get_database)],
    runtime: Tracking,
) -> LiveStreamResponse:
    """Server-Sent Events for one order's customer (authenticated by the tracking token):
    `snapshot` first, then `position`, `eta`, `status` and `visibility` as they happen."""

    async def snapshot() -> list[LiveEvent]:
        view = await run_in_threadpool(_snapshot, db, runtime, token, order_id)
        return [LiveEvent("snapshot", view)]

    return sse_response(runtime.broker.subscribe(order_channel(order_id)), first=snapshot)


def stream_caller(*allowed: Access) -> Callable[..., Principal]:
    """A dependency authenticating a stream's caller (bearer header, or ``?access_token=`` for
    EventSource clients) as one of ``allowed``, in a short transaction of its own: a stream
    lasts for hours and must not hold a database connection (or a SQLite read snapshot)."""

    def dependency(
        db: Annotated[Database, Depends(get_database)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
        access_token: Annotated[str | None, Query(description="For EventSource clients.")] = None,
    ) -> Principal:
        credential = bearer.credentials if bearer else access_token
        if not credential:
            raise Unauthorized("Send an access token.", headers={"WWW-Authenticate": "Bearer"})
        with db.unit_of_work(readonly=True) as session:
            principal = authenticate(session, credential)
        if principal.access not in allowed:
            raise Forbidden(f"This needs one of: {', '.join(sorted(allowed))}.")
        return principal

    return dependency


@router.get("/v1/live/fleet", response_class=LiveStreamResponse)
async def live_fleet(
    principal: Annotated[Principal, Depends(stream_caller(*STAFF))], runtime: Tracking
) -> LiveStreamResponse:
    """Server-Sent Events for dispatchers: every vehicle's `position`, `stop` states, `eta`
    windows and `route` starts of the organisation, beginning with the latest positions."""
    organization_id = principal.organization_id

    async def latest() -> list[LiveEvent]:
        positions = await run_in_threadpool(runtime.latest.all, organization_id)
        return [LiveEvent("position", position_payload(p)) for p in positions.values()]

    return sse_response(runtime.broker.subscribe(fleet_channel(organization_id)), first=latest)

"""HTTP routes of the dispatcher's operations backend (staff only); see docs/dispatch.md."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from lastmile.auth.principal import STAFF, Principal
from lastmile.chat.schemas import StaffMessageRead
from lastmile.deps import ServicesDep, SessionDep, require
from lastmile.dispatch import schemas as s
from lastmile.dispatch.board import DayView
from lastmile.dispatch.comparison import compare
from lastmile.dispatch.inbox import Inbox
from lastmile.dispatch.move import StopMover
from lastmile.dispatch.replan import Replanner
from lastmile.dispatch.service import notify_customer, service_day, timezone_of
from lastmile.live.latest import LatestPositions
from lastmile.planning.endpoints import get_runner
from lastmile.planning.runner import PlanRunner
from lastmile.planning.schemas import RouteRead, RouteStopRead
from lastmile.planning.service import PlanningService, RouteService

router = APIRouter(tags=["dispatch"])

Staff = Annotated[Principal, Depends(require(*STAFF))]
Day = Annotated[
    date | None,
    Query(alias="date", description="Service date (default: today, organization's time)."),
]
REFUSED: dict[int | str, dict[str, str]] = {
    404: {"description": "Unknown route, stop or order (or another tenant's)"},
    409: {"description": "Refused: see `detail`"},
}


async def get_latest(request: Request) -> LatestPositions:
    latest: LatestPositions = request.app.state.tracking.latest
    return latest


def _route_read(route: RouteRead) -> RouteRead:
    route.stops.sort(key=lambda stop: stop.position)
    return route


@router.get("/v1/dispatch/exceptions", response_model=s.ExceptionInbox)
def exceptions(
    session: SessionDep, services: ServicesDep, principal: Staff, day: Day = None,
    include_acknowledged: bool = False,
) -> s.ExceptionInbox:  # fmt: skip
    """The exceptions inbox: at-risk and late stops, failed deliveries, low ratings, unread
    chats and silent vehicles, each with the actions that fit, most urgent first."""
    inbox = Inbox(session, principal, timezone_of(session, principal),
                  services.settings.dispatch_silent_minutes)  # fmt: skip
    return inbox.read(
        service_day(session, principal, day), include_acknowledged=include_acknowledged
    )


@router.post(
    "/v1/dispatch/exceptions/{key}/acknowledge", response_model=s.ExceptionItem,
    responses={404: {"description": "No such open problem now"}},
)  # fmt: skip
def acknowledge(
    key: str, session: SessionDep, services: ServicesDep, principal: Staff,
    payload: s.Acknowledge | None = None,
) -> s.ExceptionItem:  # fmt: skip
    """Hide an inbox item until its problem changes (its `revision`)."""
    inbox = Inbox(session, principal, timezone_of(session, principal),
                  services.settings.dispatch_silent_minutes)  # fmt: skip
    return inbox.acknowledge(key, payload.note if payload else None)


@router.get("/v1/dispatch/board", response_model=s.Board)
def board(session: SessionDep, principal: Staff, day: Day = None) -> s.Board:
    """Every route of the day with vehicle, driver, last fix and its stops: planned, actual,
    live ETA window, promised window, at-risk and late flags, orders."""
    return DayView(session, principal).board(service_day(session, principal, day))


@router.get("/v1/dispatch/map", response_model=s.FeatureCollection)
def operations_map(session: SessionDep, principal: Staff, day: Day = None) -> s.FeatureCollection:
    """GeoJSON of the day: planned route lines, stops by state, depots and hubs, lockers and
    pick-up points. Live vehicle positions: `/v1/fleet/positions` and `/v1/live/fleet`."""
    return DayView(session, principal).map(service_day(session, principal, day))


@router.post(
    "/v1/routes/{route_id}/stops/{stop_id}/move:check", response_model=s.MoveCheck,
    responses={404: REFUSED[404]},
)  # fmt: skip
def check_move(
    route_id: str, stop_id: str, payload: s.MoveRequest, session: SessionDep,
    services: ServicesDep, principal: Staff,
) -> s.MoveCheck:  # fmt: skip
    """Whether the stop could move to `to_route_id` (at `position`, or the best place), what
    it would cost (extra km, minutes later stops get, slack left) and, if not, which constraint
    refuses it. Changes nothing."""
    return StopMover(session, principal, services).check(route_id, stop_id, payload)


@router.post(
    "/v1/routes/{route_id}/stops/{stop_id}/move", response_model=s.MoveResult,
    responses=REFUSED,
)  # fmt: skip
def move_stop(
    route_id: str, stop_id: str, payload: s.MoveRequest, session: SessionDep,
    services: ServicesDep, principal: Staff,
) -> s.MoveResult:  # fmt: skip
    """Move the stop with its orders to another route of the same day, where the check finds
    room; both routes' schedules, totals and live tracking follow."""
    move = StopMover(session, principal, services).move(route_id, stop_id, payload)
    return s.MoveResult(
        check=move.check,
        from_route=_route_read(RouteRead.model_validate(move.source)),
        to_route=_route_read(RouteRead.model_validate(move.target)),
        stop=RouteStopRead.model_validate(move.stop),
    )


@router.post("/v1/routes/{route_id}/replan", response_model=s.ReplanResult, responses=REFUSED)
def replan_route(
    route_id: str, session: SessionDep, services: ServicesDep, principal: Staff,
    latest: Annotated[LatestPositions, Depends(get_latest)],
    payload: s.ReplanRequest | None = None,
) -> s.ReplanResult:  # fmt: skip
    """Re-sequence the stops not yet reached (this trip) from where the vehicle is, keeping
    every window (PyVRP, a few seconds at most)."""
    body = payload or s.ReplanRequest()
    distance_before = RouteService(session, principal).get(route_id).distance_m
    route, before, after = Replanner(session, principal, services, latest).replan(
        route_id, body.time_limit_s
    )
    return s.ReplanResult(
        route=_route_read(RouteRead.model_validate(route)), changed=before != after,
        before=before, after=after, distance_km_before=round(distance_before / 1000, 3),
        distance_km_after=round(route.distance_m / 1000, 3),
    )  # fmt: skip


@router.post(
    "/v1/dispatch/orders/{order_id}/notify", status_code=status.HTTP_201_CREATED,
    response_model=StaffMessageRead,
    responses={404: REFUSED[404], 409: {"description": "The conversation is closed"},
               429: {"description": "Over the chat's rate limit"}},
)  # fmt: skip
def notify(
    order_id: str, payload: s.NotifyCustomer, session: SessionDep, services: ServicesDep,
    principal: Staff,
) -> StaffMessageRead:  # fmt: skip
    """Tell the customer something: a chat message from "Dispatch" on their tracking page."""
    return notify_customer(session, principal, services, order_id, payload.message)


@router.get(
    "/v1/plans/{plan_id}/comparison", response_model=s.PlanComparison,
    responses={404: REFUSED[404]},
)  # fmt: skip
def plan_comparison(
    plan_id: str, session: SessionDep, services: ServicesDep, principal: Staff,
    runner: Annotated[PlanRunner, Depends(get_runner)],
) -> s.PlanComparison:  # fmt: skip
    """The proposed plan next to what is committed for its day: vehicles, km, driving hours,
    CO2, cost, on-time risk, and per vehicle."""
    planning = PlanningService(session, principal, services, runner)
    return compare(session, principal, planning, plan_id)

"""HTTP routes for planning jobs (start, progress, commit) and committed routes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from lastmile.auth.principal import STAFF, Access, Principal
from lastmile.db.engine import Database
from lastmile.deps import ServicesDep, SessionDep, get_database, require
from lastmile.kit.errors import NotFound
from lastmile.kit.pagination import Cursor, Limit, Page
from lastmile.planning.models import PlanStatus
from lastmile.planning.runner import PlanRunner
from lastmile.planning.schemas import PlanRead, PlanRequest, RouteRead
from lastmile.planning.service import PlanningService, PlanRepository, RouteFilters, RouteService

router = APIRouter(tags=["planning"])
TERMINAL = {PlanStatus.succeeded, PlanStatus.failed, PlanStatus.committed}
EVENT_INTERVAL_S = 0.5


async def get_runner(request: Request) -> PlanRunner:
    runner: PlanRunner = request.app.state.plan_runner
    return runner


def _planning(
    session: SessionDep,
    services: ServicesDep,
    runner: Annotated[PlanRunner, Depends(get_runner)],
    principal: Annotated[Principal, Depends(require(*STAFF))],
) -> PlanningService:
    return PlanningService(session, principal, services, runner)


Planning = Annotated[PlanningService, Depends(_planning)]
RouteReader = Annotated[Principal, Depends(require(*STAFF, Access.driver))]


@router.post("/v1/plans", status_code=status.HTTP_202_ACCEPTED, response_model=PlanRead)
def start_plan(payload: PlanRequest, svc: Planning, response: Response) -> PlanRead:
    """Start optimising a day. Answers at once (202); follow `GET /v1/plans/{id}` or its
    `/events` stream until the status is `succeeded`, then commit it."""
    plan = svc.start(payload)
    response.headers["Location"] = f"/v1/plans/{plan.id}"
    return PlanRead.model_validate(plan)


@router.get("/v1/plans", response_model=Page[PlanRead])
def list_plans(
    svc: Planning, service_date: date | None = None, cursor: Cursor = None, limit: Limit = 20
) -> Page[PlanRead]:
    return Page[PlanRead].build(
        svc.find(service_date, cursor=cursor, limit=limit), PlanRead.model_validate
    )


@router.get("/v1/plans/{plan_id}", response_model=PlanRead)
def read_plan(plan_id: str, svc: Planning) -> PlanRead:
    """Status, progress and, once solved, the proposed routes with unassigned orders and why."""
    return PlanRead.model_validate(svc.get(plan_id))


@router.get("/v1/plans/{plan_id}/events", response_class=StreamingResponse)
async def plan_events(
    plan_id: str,
    db: Annotated[Database, Depends(get_database)],
    principal: Annotated[Principal, Depends(require(*STAFF))],
) -> StreamingResponse:
    """Server-Sent Events: `progress` while the search runs, then one `done` event."""

    def snapshot() -> dict[str, object] | None:
        with db.unit_of_work(readonly=True) as session:
            plan = PlanRepository(session, principal).get(plan_id)
            if plan is None:
                return None
            return {"id": plan.id, "status": plan.status.value, "progress": plan.progress,
                    "summary": plan.summary, "message": plan.message}  # fmt: skip

    first = await run_in_threadpool(snapshot)
    if first is None:
        raise NotFound(f"No plan {plan_id!r}.")

    async def stream() -> AsyncIterator[str]:
        state: dict[str, object] | None = first
        while True:
            done = state is None or PlanStatus(str(state["status"])) in TERMINAL
            yield f"event: {'done' if done else 'progress'}\ndata: {json.dumps(state)}\n\n"
            if done:
                return
            await asyncio.sleep(EVENT_INTERVAL_S)
            state = await run_in_threadpool(snapshot)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})  # fmt: skip


@router.post("/v1/plans/{plan_id}/commit", response_model=PlanRead)
def commit_plan(plan_id: str, svc: Planning) -> PlanRead:
    """Create the routes, assign them to their drivers and move the orders to dispatched."""
    return PlanRead.model_validate(svc.commit(plan_id))


@router.get("/v1/routes", response_model=Page[RouteRead])
def list_routes(
    session: SessionDep,
    principal: RouteReader,
    service_date: date | None = None,
    driver_id: str | None = None,
    vehicle_id: str | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[RouteRead]:
    """Committed routes; drivers see their own."""
    paged = RouteService(session, principal).find(
        RouteFilters(service_date, driver_id, vehicle_id), cursor=cursor, limit=limit
    )
    return Page[RouteRead].build(paged, RouteRead.model_validate)


@router.get("/v1/routes/{route_id}", response_model=RouteRead)
def read_route(route_id: str, session: SessionDep, principal: RouteReader) -> RouteRead:
    return RouteRead.model_validate(RouteService(session, principal).get(route_id))

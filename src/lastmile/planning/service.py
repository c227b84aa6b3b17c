"""Planning rules: start a job, read progress, commit a proposal into routes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import Select, false, update
from sqlalchemy.orm import Session, selectinload

from lastmile.auth.principal import Access, Principal
from lastmile.db.engine import after_commit
from lastmile.db.repository import TenantRepository
from lastmile.kit.clock import utcnow
from lastmile.kit.errors import Conflict, NotFound, Unprocessable, field_error
from lastmile.kit.ids import new_id
from lastmile.kit.pagination import Paged
from lastmile.orders.service import OrderService
from lastmile.organizations.repository import get_organization
from lastmile.planning.assemble import PLANNABLE, assemble_day
from lastmile.planning.models import Plan, PlanStatus, Route, RouteStatus, RouteStop
from lastmile.planning.runner import PlanJob, PlanRunner
from lastmile.planning.schemas import PlanRequest, PlanResult
from lastmile.routing.checks import check_problem
from lastmile.routing.errors import InvalidProblem
from lastmile.services import Services


class PlanRepository(TenantRepository[Plan]):
    model = Plan


class RouteRepository(TenantRepository[Route]):
    model = Route
    scope: Principal

    def scoped(self) -> Select[Route]:
        stmt = super().scoped().options(selectinload(Route.stops))
        if self.scope.access is Access.driver:
            # A driver login no driver profile names sees no route (comparing with None
            # would match every route without a driver).
            driver_id = self.scope.driver_id
            stmt = stmt.where(Route.driver_id == driver_id if driver_id is not None else false())
        return stmt


@dataclass(frozen=True)
class RouteFilters:
    service_date: date | None = None
    driver_id: str | None = None
    vehicle_id: str | None = None


class PlanningService:
    """Never commits: the caller's unit of work does (and then starts queued jobs)."""

    def __init__(
        self, session: Session, principal: Principal, services: Services, runner: PlanRunner
    ) -> None:
        self.session = session
        self.principal = principal
        self.services = services
        self.runner = runner
        self.plans = PlanRepository(session, principal)

    def start(self, request: PlanRequest) -> Plan:
        """Check the request and queue the search; it starts once this transaction commits."""
        org = get_organization(self.session, self.principal.organization_id)
        day = assemble_day(
            self.session, self.principal, request, ZoneInfo(org.timezone), utcnow(),
            grid_kg_co2e_per_kwh=self.services.settings.grid_kg_co2e_per_kwh,
        )  # fmt: skip
        try:
            check_problem(day.problem)
        except InvalidProblem as exc:
            raise Unprocessable(
                day.describe(exc.reason),
                errors=[field_error([day.describe(exc.field)], exc.reason)],
            ) from exc
        plan = self.plans.add(
            Plan(
                id=new_id("pln"), service_date=request.service_date, status=PlanStatus.queued,
                request=request.model_dump(mode="json"), progress=0.0,
                created_by=self.principal.actor,
            )
        )  # fmt: skip
        job = PlanJob(plan.id, day, request.time_limit_s, request.seed)
        after_commit(self.session, lambda: self.runner.submit(job))
        return plan

    def get(self, plan_id: str) -> Plan:
        plan = self.plans.get(plan_id)
        if plan is None:
            raise NotFound(f"No plan {plan_id!r}.")
        return plan

    def find(self, service_date: date | None, *, cursor: str | None, limit: int) -> Paged[Plan]:
        stmt = self.plans.matching({"service_date": service_date})
        return self.plans.page(stmt, cursor=cursor, limit=limit)

    def commit(self, plan_id: str) -> Plan:
        """Turn the proposal into routes; orders move to dispatched with their driver.

        Refused (409, nothing changed) unless the plan succeeded and every order in it is
        still waiting to be planned.
        """
        plan = self.get(plan_id)
        if plan.status is not PlanStatus.succeeded or plan.result is None:
            raise Conflict(f"Only a succeeded plan can be committed; this one is {plan.status}.")
        claimed = self.session.execute(
            update(Plan)
            .where(Plan.id == plan.id, Plan.status == PlanStatus.succeeded)
            .values(status=PlanStatus.committed, committed_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            raise Conflict("The plan was committed meanwhile.")
        result = PlanResult.model_validate(plan.result)
        order_ids = [o for r in result.routes for s in r.stops for o in s.order_ids]
        orders = {
            o.id: o
            for o in OrderService(self.session, self.principal, self.services).repo.get_many(
                order_ids
            )
        }
        stale = sorted(o for o in order_ids if o not in orders or orders[o].status not in PLANNABLE)
        if stale:
            raise Conflict(
                f"{len(stale)} orders changed since planning (e.g. {', '.join(stale[:5])}); "
                "plan again."
            )
        order_service = OrderService(self.session, self.principal, self.services)
        for proposed in result.routes:
            route = Route(
                id=new_id("rte"), organization_id=plan.organization_id, plan_id=plan.id,
                service_date=plan.service_date, vehicle_id=proposed.vehicle_id,
                driver_id=proposed.driver_id, start_depot_id=proposed.start_depot_id,
                end_depot_id=proposed.end_depot_id, status=RouteStatus.dispatched,
                starts_at=proposed.starts_at, ends_at=proposed.ends_at,
                distance_m=round(proposed.distance_km * 1000),
                duration_s=round(proposed.duration_h * 3600), cost=proposed.cost,
                co2_g=proposed.co2_kg * 1000, geometry=proposed.geometry,
            )  # fmt: skip
            self.session.add(route)
            for stop in proposed.stops:
                row = RouteStop(
                    id=new_id("stp"), organization_id=plan.organization_id, route_id=route.id,
                    position=stop.position, kind=stop.kind, depot_id=stop.depot_id,
                    lat=stop.lat, lon=stop.lon, planned_arrival=stop.arrival,
                    planned_departure=stop.departure, slack_s=stop.slack_s,
                    order_ids=stop.order_ids,
                )  # fmt: skip
                self.session.add(row)
                self.session.flush()
                for order_id in stop.order_ids:
                    order_service.dispatch(
                        orders[order_id], route_id=route.id, stop_id=row.id,
                        driver_id=proposed.driver_id, vehicle_id=proposed.vehicle_id,
                        reason=f"plan {plan.id} committed",
                    )  # fmt: skip
        self.session.flush()
        self.session.refresh(plan)
        return plan


class RouteService:
    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.routes = RouteRepository(session, principal)

    def get(self, route_id: str, *, for_update: bool = False) -> Route:
        stmt = self.routes.scoped().where(Route.id == route_id)
        route = self.session.scalars(stmt.with_for_update() if for_update else stmt).first()
        if route is None:
            raise NotFound(f"No route {route_id!r}.")
        return route

    def find(self, filters: RouteFilters, *, cursor: str | None, limit: int) -> Paged[Route]:
        return self.routes.page(self.routes.matching(vars(filters)), cursor=cursor, limit=limit)

"""A proposed plan next to what is committed for its day: the planning screen's comparison.

Both sides are measured alike from their stop times: driving hours are the time between
leaving one place and reaching the next (``arrival - previous departure``, the return to the
depot included), duration is the route's end minus its start, and a stop is *tight* when its
slack is under ten minutes. Current unassigned orders are the day's orders waiting for
planning (created or rescheduled, on no route); proposed ones are the plan's unassigned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.orm import Session

from lastmile.auth.principal import Principal
from lastmile.db.repository import TenantRepository
from lastmile.dispatch.schemas import (
    PlanComparison,
    PlanTotals,
    RouteComparison,
    RouteDelta,
    RouteFigures,
)
from lastmile.fleet.models import Vehicle
from lastmile.orders.models import Order
from lastmile.planning.assemble import PLANNABLE
from lastmile.planning.models import Plan, Route
from lastmile.planning.schemas import PlanResult
from lastmile.planning.service import PlanningService, RouteRepository

TIGHT_SLACK_S = 600


@dataclass(frozen=True, slots=True)
class _Leg:
    """What a route's figures are computed from, whichever side it comes from."""

    route_id: str | None
    vehicle_id: str
    starts_at: datetime
    ends_at: datetime
    distance_m: float
    co2_g: float
    cost: float
    # (kind, arrival, departure, slack_s) per stop, in order
    stops: Sequence[tuple[str, datetime, datetime, int]]
    orders: int

    def figures(self) -> RouteFigures:
        driving = 0.0
        left = self.starts_at
        for _, arrival, departure, _ in self.stops:
            driving += max(0.0, (arrival - left).total_seconds())
            left = departure
        driving += max(0.0, (self.ends_at - left).total_seconds())
        deliveries = [s for s in self.stops if s[0] == "stop"]
        return RouteFigures(
            route_id=self.route_id,
            stops=len(deliveries),
            distance_km=round(self.distance_m / 1000, 3),
            driving_h=round(driving / 3600, 3),
            duration_h=round((self.ends_at - self.starts_at).total_seconds() / 3600, 3),
            co2_kg=round(self.co2_g / 1000, 3),
            cost=round(self.cost, 2),
            tight_stops=sum(s[3] < TIGHT_SLACK_S for s in deliveries),
        )


class _Orders(TenantRepository[Order]):
    model = Order


class _Vehicles(TenantRepository[Vehicle]):
    model = Vehicle


def _current(routes: Sequence[Route]) -> list[_Leg]:
    legs = []
    for r in routes:
        stops = sorted(r.stops, key=lambda s: s.position)
        legs.append(
            _Leg(
                route_id=r.id, vehicle_id=r.vehicle_id, starts_at=r.starts_at,
                ends_at=r.ends_at, distance_m=r.distance_m, co2_g=r.co2_g, cost=r.cost,
                stops=[(s.kind, s.planned_arrival, s.planned_departure, s.slack_s)
                       for s in stops],
                orders=sum(len(s.order_ids) for s in stops),
            )
        )  # fmt: skip
    return legs


def _proposed(result: PlanResult) -> list[_Leg]:
    return [
        _Leg(
            route_id=None, vehicle_id=r.vehicle_id, starts_at=r.starts_at, ends_at=r.ends_at,
            distance_m=r.distance_km * 1000, co2_g=r.co2_kg * 1000, cost=r.cost,
            stops=[(s.kind, s.arrival, s.departure, s.slack_s) for s in r.stops],
            orders=sum(len(s.order_ids) for s in r.stops),
        )
        for r in result.routes
    ]  # fmt: skip


def _totals(legs: Sequence[_Leg], unassigned: int) -> PlanTotals:
    figures = [leg.figures() for leg in legs]
    return PlanTotals(
        vehicles=len(legs),
        stops=sum(f.stops for f in figures),
        orders=sum(leg.orders for leg in legs),
        distance_km=round(sum(f.distance_km for f in figures), 3),
        driving_h=round(sum(f.driving_h for f in figures), 3),
        duration_h=round(sum(f.duration_h for f in figures), 3),
        co2_kg=round(sum(f.co2_kg for f in figures), 3),
        cost=round(sum(f.cost for f in figures), 2),
        tight_stops=sum(f.tight_stops for f in figures),
        unassigned=unassigned,
    )


def _minus(a: PlanTotals, b: PlanTotals) -> PlanTotals:
    return PlanTotals(
        **{name: round(getattr(a, name) - getattr(b, name), 3) for name in PlanTotals.model_fields}
    )


def _route_delta(proposed: RouteFigures | None, current: RouteFigures | None) -> RouteDelta:
    def value(figures: RouteFigures | None, name: str) -> float:
        return float(getattr(figures, name)) if figures is not None else 0.0

    fields = RouteDelta.model_fields
    return RouteDelta.model_validate(
        {
            name: round(value(proposed, name) - value(current, name), 3)
            if name not in ("stops", "tight_stops")
            else int(value(proposed, name) - value(current, name))
            for name in fields
        }
    )


def compare(
    session: Session, principal: Principal, planning: PlanningService, plan_id: str
) -> PlanComparison:
    """The comparison of plan ``plan_id`` (404 if unknown) with its day's committed routes."""
    plan: Plan = planning.get(plan_id)
    result = (
        PlanResult.model_validate(plan.result)
        if plan.result
        else PlanResult(routes=[], unassigned=[])
    )
    routes = RouteRepository(session, principal)
    current_routes = list(
        session.scalars(routes.scoped().where(Route.service_date == plan.service_date))
    )
    waiting = session.scalar(
        _Orders(session, principal)
        .scoped()
        .with_only_columns(func.count(Order.id))
        .where(
            Order.service_date == plan.service_date,
            Order.status.in_(PLANNABLE),
            Order.route_id.is_(None),
        )
    )
    current, proposed = _current(current_routes), _proposed(result)
    now_totals = _totals(current, int(waiting or 0))
    new_totals = _totals(proposed, len(result.unassigned))
    vehicle_ids = sorted({leg.vehicle_id for leg in [*current, *proposed]})
    names = {v.id: v.name for v in _Vehicles(session, principal).get_many(vehicle_ids)}
    by_vehicle_now = {leg.vehicle_id: leg.figures() for leg in current}
    by_vehicle_new = {leg.vehicle_id: leg.figures() for leg in proposed}
    rows = []
    for vehicle_id in vehicle_ids:
        now, new = by_vehicle_now.get(vehicle_id), by_vehicle_new.get(vehicle_id)
        rows.append(
            RouteComparison(
                vehicle_id=vehicle_id, vehicle_name=names.get(vehicle_id), current=now,
                proposed=new, delta=_route_delta(new, now),
            )
        )  # fmt: skip
    rows.sort(key=lambda r: (r.vehicle_name or "", r.vehicle_id))
    return PlanComparison(
        plan_id=plan.id, service_date=plan.service_date, plan_status=plan.status,
        current=now_totals, proposed=new_totals, delta=_minus(new_totals, now_totals),
        routes=rows,
    )  # fmt: skip

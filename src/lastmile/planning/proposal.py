"""The routing core's :class:`Plan` in API shape: datetimes, kilometres, vehicle and driver ids."""

from __future__ import annotations

from lastmile.planning.assemble import AssembledDay
from lastmile.planning.schemas import (
    Load,
    PlanResult,
    PlanSummary,
    ProposedBreak,
    ProposedRoute,
    ProposedStop,
    UnassignedOrder,
)
from lastmile.routing import plan as rplan
from lastmile.routing import problem as rp


def _load(load: rp.Load) -> Load:
    return Load(parcels=load.parcels, kg=round(load.kg, 3), litres=round(load.litres, 3))


def _route(route: rplan.PlannedRoute, day: AssembledDay) -> ProposedRoute:
    # Each domain vehicle is its own vehicle type in the core (count 1), so the type id is
    # the vehicle id.
    vehicle_id = route.vehicle_type_id
    return ProposedRoute(
        vehicle_id=vehicle_id,
        driver_id=day.driver_of_vehicle.get(vehicle_id),
        start_depot_id=route.start_depot_id,
        end_depot_id=route.end_depot_id,
        starts_at=day.at(route.start_s),
        ends_at=day.at(route.end_s),
        distance_km=round(route.distance_m / 1000, 3),
        driving_h=round(route.driving_s / 3600, 3),
        duration_h=round((route.end_s - route.start_s) / 3600, 3),
        cost=round(route.cost, 2),
        co2_kg=round(route.co2_g / 1000, 3),
        load_at_start=_load(route.load_at_start),
        stops=[
            ProposedStop(
                position=i, kind=v.kind.value, depot_id=v.depot_id, order_ids=list(v.job_ids),
                lat=v.location.lat, lon=v.location.lon, arrival=day.at(v.arrival_s),
                service_start=day.at(v.service_start_s), departure=day.at(v.departure_s),
                waiting_s=v.waiting_s, slack_s=v.slack_s, load_after=_load(v.load_after),
            )
            for i, v in enumerate(route.visits)
        ],
        breaks=[
            ProposedBreak(start=day.at(b.start_s), end=day.at(b.end_s), after_stop=b.after_visit)
            for b in route.breaks
        ],
        geometry=route.geometry,
    )  # fmt: skip


def proposal_from_plan(plan: rplan.Plan, day: AssembledDay) -> tuple[PlanResult, PlanSummary]:
    """The proposal to store and show, and its totals."""
    routes = [_route(r, day) for r in plan.routes if r.visits]
    result = PlanResult(
        routes=routes,
        unassigned=[
            *day.excluded,
            *(
                UnassignedOrder(order_id=u.job_id, reason=u.reason.value, detail=u.detail)
                for u in plan.unassigned
            ),
        ],
    )
    assigned = sum(len(s.order_ids) for r in routes for s in r.stops)
    summary = PlanSummary(
        vehicles=len(routes),
        orders=len(day.order_ids),
        assigned=assigned,
        unassigned=len(result.unassigned),
        distance_km=round(plan.distance_m / 1000, 3),
        duration_h=round(plan.duration_s / 3600, 3),
        cost=round(plan.cost, 2),
        co2_kg=round(plan.co2_g / 1000, 3),
    )
    return result, summary

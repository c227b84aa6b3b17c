"""Small problems for the routing tests, on a straight-line travel model around Porto."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, settings

from lastmile.routing import (
    Coordinate,
    Depot,
    HaversineModel,
    Job,
    Load,
    Plan,
    PlanningOptions,
    Problem,
    ProblemMatrices,
    TravelModel,
    VehicleType,
    build_matrices,
    plan_with_matrices,
    validate_plan,
)

HOUR = 3600
ORIGIN = Coordinate(41.1500, -8.6100)
VAN_CAPACITY = Load(parcels=100, kg=500.0, litres=3000.0)

# Few examples, no deadline (shared 2-core machines are slow), the same examples every run.
PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def at(north_m: float, east_m: float) -> Coordinate:
    """A point ``north_m`` metres north and ``east_m`` metres east of ORIGIN."""
    return Coordinate(ORIGIN.lat + north_m / 111_195, ORIGIN.lon + east_m / 83_800)


def depot(ident: str = "D", north_m: float = 0.0, east_m: float = 0.0) -> Depot:
    """A depot near ORIGIN."""
    return Depot(ident, at(north_m, east_m))


def van(ident: str = "van", **changes: object) -> VehicleType:
    """A van at depot D working 08:00-18:00, with any field overridden."""
    base = VehicleType(
        id=ident,
        depot_id="D",
        capacity=VAN_CAPACITY,
        shift_start_s=8 * HOUR,
        shift_end_s=18 * HOUR,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def job(ident: str, north_m: float, east_m: float, **changes: object) -> Job:
    """A one-parcel, 1 kg, 5 l order with a 60 s service time, with any field overridden."""
    base = Job(ident, at(north_m, east_m), Load(1, 1.0, 5.0), service_s=60)
    return replace(base, **changes)  # type: ignore[arg-type]


def problem(*jobs: Job, vehicles: tuple[VehicleType, ...] = (), **changes: object) -> Problem:
    """A problem with depot D, the given jobs and (by default) one van."""
    base = Problem(depots=(depot(),), vehicle_types=vehicles or (van(),), jobs=jobs)
    return replace(base, **changes)  # type: ignore[arg-type]


def solve(
    instance: Problem,
    travel: TravelModel | None = None,
    *,
    iterations: int = 400,
    options: PlanningOptions = PlanningOptions(),
) -> tuple[Plan, ProblemMatrices]:
    """Plan reproducibly (iteration-limited) and return the plan with its matrices."""
    matrices = build_matrices(instance, travel or HaversineModel())
    plan = plan_with_matrices(
        instance, matrices, time_limit_s=30, seed=1, max_iterations=iterations, options=options
    )
    return plan, matrices


def solve_valid(
    instance: Problem,
    travel: TravelModel | None = None,
    *,
    options: PlanningOptions = PlanningOptions(),
) -> Plan:
    """Plan and assert that the independent validator finds nothing wrong."""
    plan, matrices = solve(instance, travel, options=options)
    assert validate_plan(instance, matrices, plan) == []
    return plan


def route_of(plan: Plan, job_id: str) -> int:
    """Index of the route delivering ``job_id``."""
    return next(r for r, route in enumerate(plan.routes) if job_id in route.job_ids)


def reason_of(plan: Plan, job_id: str) -> str:
    """Why ``job_id`` is unassigned."""
    return str(next(u.reason for u in plan.unassigned if u.job_id == job_id))

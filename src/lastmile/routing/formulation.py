"""
Translate a planning problem into a solver instance; all modelling choices live here.

The solver (PyVRP) has no driver skills, payload limits or breaks, so this module encodes
them with what it does have (see docs/routing.md):

- skills, payload and per-stop capacity: every distinct set of stops a vehicle type may not
  serve gets its own routing profile, a copy of the travel matrices in which arcs into those
  stops are prohibitively long;
- breaks: each vehicle type's latest return is brought forward by its total break time,
  windows a break may precede close that much earlier (and those a break must precede
  open earlier too), and breaks are placed into the finished routes afterwards;
- alternative windows: one optional client per window, in a mutually exclusive group;
- unassigned orders: every client is optional with a prize that grows with priority.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lastmile.routing.errors import InvalidProblem
from lastmile.routing.feasibility import static_obstacle
from lastmile.routing.matrices import ProblemMatrices
from lastmile.routing.problem import (
    Break,
    Load,
    PlanningOptions,
    Problem,
    TimeWindow,
    VehicleType,
)
from lastmile.routing.stops import Stop

COST_UNITS_PER_CURRENCY = 100_000
"""Integer cost resolution: 0.00001 of a currency unit, so 0.35 per km is 35 per metre."""

PROHIBITIVE = 10_000_000
"""Distance (m) and duration (s) of arcs into stops a vehicle type may not serve, and the
ceiling of every arc: far beyond any real route, yet small enough that penalties on it stay
well inside 64-bit integers."""

NO_LIMIT = np.iinfo(np.int64).max
_MAX_TOTAL_PRIZE = 2**60


@dataclass(frozen=True, slots=True)
class SolverClient:
    """One client of the solver: a stop, or one alternative window of a stop."""

    stop: int
    window: TimeWindow | None
    location: int
    delivery: tuple[int, int, int]
    service_s: int
    tw_early: int
    tw_late: int
    release_s: int
    prize: int
    required: bool
    group: int | None


@dataclass(frozen=True, slots=True)
class SolverVehicleType:
    """One vehicle type of the solver, in integer units."""

    source: int
    """Index of the problem's vehicle type this one stands for."""
    count: int
    capacity: tuple[int, int, int]
    start_depot: int
    end_depot: int
    reload_depots: tuple[int, ...]
    fixed_cost: int
    unit_distance_cost: int
    unit_duration_cost: int
    tw_early: int
    tw_late: int
    max_distance: int
    profile: int


@dataclass(frozen=True, slots=True)
class SolverInstance:
    """
    Solver-ready data: plain arrays and integers, picklable for worker processes.

    Locations are the ``num_depots`` depots (in problem order) followed by one location per
    client.
    """

    num_depots: int
    coordinates: NDArray[np.float64]
    clients: tuple[SolverClient, ...]
    groups: tuple[tuple[tuple[int, ...], bool], ...]
    vehicle_types: tuple[SolverVehicleType, ...]
    distance: tuple[NDArray[np.int32], ...]
    """Per solver profile; int32 (every arc is capped at PROHIBITIVE) halves what worker
    processes receive."""
    duration: tuple[NDArray[np.int32], ...]
    num_neighbours: int
    cost_scale: int
    """Largest unit distance or duration cost: how far costs sit above PyVRP's unit scale."""


def load_units(load: Load, *, capacity: bool) -> tuple[int, int, int]:
    """
    Integer parcels, grams and millilitres.

    Demands round up and capacities down, so whatever the solver accepts also fits in the
    original units.
    """
    rounding = math.floor if capacity else math.ceil
    nudge = 1e-9 if capacity else -1e-9
    return (
        load.parcels,
        int(rounding(load.kg * 1000 + nudge)),
        int(rounding(load.litres * 1000 + nudge)),
    )


def cost_units(amount: float) -> int:
    """Currency amount in integer cost units."""
    return round(amount * COST_UNITS_PER_CURRENCY)


def stop_prize(stop: Stop, options: PlanningOptions) -> int:
    """Objective value of serving ``stop``: the sum of its orders' priority-weighted prizes."""
    return sum(
        cost_units(options.unassigned_cost * options.priority_factor**job.priority)
        for job in stop.jobs
    )


def solver_window(window: TimeWindow, breaks_by_type: Sequence[Sequence[Break]]) -> tuple[int, int]:
    """
    A window in the solver's break-free time, for vehicles with the given breaks.

    Once a break is taken, real time runs up to its duration ahead of the solver's. A window
    a break may come before must close that much earlier in solver time. A break whose
    latest start is no later than the window's opening surely comes before the visit (the
    route runs past it), so the window may also open that much earlier. Taking the most
    cautious value over the vehicle types keeps solver-feasible visits feasible, except for
    windows shorter than a break that may or may not precede them.
    """
    opens_earlier = min(
        (
            sum(b.duration_s for b in breaks if b.latest_start_s <= window.start_s)
            for breaks in breaks_by_type
        ),
        default=0,
    )
    closes_earlier = max(
        (
            sum(b.duration_s for b in breaks if b.earliest_start_s < window.end_s)
            for breaks in breaks_by_type
        ),
        default=0,
    )
    early = window.start_s - opens_earlier
    return early, max(early, window.end_s - closes_earlier)


def _solver_vehicle_type(
    source: int, vehicle_type: VehicleType, depot_index: dict[str, int], profile: int
) -> SolverVehicleType:
    breaks = sum(b.duration_s for b in vehicle_type.breaks)
    return SolverVehicleType(
        source=source,
        count=vehicle_type.count,
        capacity=load_units(vehicle_type.capacity, capacity=True),
        start_depot=depot_index[vehicle_type.depot_id],
        end_depot=depot_index[vehicle_type.return_depot_id],
        reload_depots=tuple(depot_index[d] for d in vehicle_type.reload_depot_ids),
        fixed_cost=cost_units(vehicle_type.fixed_cost),
        unit_distance_cost=cost_units(vehicle_type.cost_per_km / 1000),
        unit_duration_cost=cost_units(vehicle_type.cost_per_hour / 3600),
        tw_early=vehicle_type.shift_start_s,
        tw_late=vehicle_type.shift_end_s - breaks,
        max_distance=vehicle_type.max_distance_m or NO_LIMIT,
        profile=profile,
    )


def _clients(
    problem: Problem, stops: Sequence[Stop], options: PlanningOptions
) -> tuple[list[SolverClient], list[tuple[tuple[int, ...], bool]]]:
    """One client per stop and usable window; groups of alternatives with whether required."""
    clients: list[SolverClient] = []
    groups: list[tuple[tuple[int, ...], bool]] = []
    required = not options.allow_unassigned
    for s, stop in enumerate(stops):
        breaks_by_type = [
            vt.breaks
            for vt in problem.vehicle_types
            if vt.count and static_obstacle(stop, vt) is None
        ]
        # Alternatives the order cannot be ready for (release after the window closes in
        # solver time) are left out; a stop left without any gets no client at all.
        alternatives = [
            (window, *(solver_window(window, breaks_by_type) if window else (0, NO_LIMIT)))
            for window in stop.windows or (None,)
        ]
        alternatives = [a for a in alternatives if a[2] >= stop.release_s]
        group = len(groups) if len(alternatives) > 1 else None
        first = len(clients)
        for window, early, late in alternatives:
            clients.append(
                SolverClient(
                    stop=s,
                    window=window,
                    location=len(problem.depots) + len(clients),
                    delivery=load_units(stop.load, capacity=False),
                    service_s=stop.service_s,
                    tw_early=early,
                    tw_late=late,
                    release_s=stop.release_s,
                    prize=0 if required else stop_prize(stop, options),
                    required=required and group is None,
                    group=group,
                )
            )
        if group is not None:
            groups.append((tuple(range(first, len(clients))), required))
    if sum(c.prize for c in clients) > _MAX_TOTAL_PRIZE:
        raise InvalidProblem("unassigned costs or priorities are too large", "jobs.priority")
    return clients, groups


def formulate(
    problem: Problem,
    stops: Sequence[Stop],
    matrices: ProblemMatrices,
    options: PlanningOptions,
) -> SolverInstance:
    """
    Build the solver instance for ``stops`` (the stops worth planning) of ``problem``.

    Parameters
    ----------
    problem
        The checked problem; supplies depots and vehicle types.
    stops
        Stops to plan, in the order their clients are created.
    matrices
        Travel matrices over the problem's points.
    options
        Objective tuning.
    """
    clients, groups = _clients(problem, stops, options)
    point_of_location = np.asarray(
        [matrices.depot_point[d.id] for d in problem.depots]
        + [matrices.job_point[stops[c.stop].jobs[0].id] for c in clients],
        dtype=np.int64,
    )
    depot_index = {d.id: i for i, d in enumerate(problem.depots)}
    profile_of: dict[tuple[str, tuple[int, ...]], int] = {}
    distance: list[NDArray[np.int32]] = []
    duration: list[NDArray[np.int32]] = []
    vehicle_types: list[SolverVehicleType] = []
    for source, vehicle_type in enumerate(problem.vehicle_types):
        if vehicle_type.count == 0:
            continue
        forbidden = tuple(
            c for c, client in enumerate(clients)
            if static_obstacle(stops[client.stop], vehicle_type) is not None
        )  # fmt: skip
        key = (str(vehicle_type.profile), forbidden)
        if key not in profile_of:
            profile_of[key] = len(distance)
            travel = matrices[vehicle_type.profile]
            columns = [len(problem.depots) + c for c in forbidden]
            for full, target in ((travel.distance_m, distance), (travel.duration_s, duration)):
                rows = full[np.ix_(point_of_location, point_of_location)]
                matrix = np.minimum(rows, PROHIBITIVE).astype(np.int32)
                matrix[:, columns] = PROHIBITIVE
                matrix[columns, columns] = 0
                target.append(matrix)
        vehicle_types.append(
            _solver_vehicle_type(source, vehicle_type, depot_index, profile_of[key])
        )

    coordinates = np.asarray(
        [(p.lon, p.lat) for p in (matrices.points[i] for i in point_of_location)],
        dtype=np.float64,
    ).reshape(-1, 2)
    return SolverInstance(
        num_depots=len(problem.depots),
        coordinates=coordinates,
        clients=tuple(clients),
        groups=tuple(groups),
        vehicle_types=tuple(vehicle_types),
        distance=tuple(distance),
        duration=tuple(duration),
        num_neighbours=options.num_neighbours,
        cost_scale=max(
            [1] + [max(vt.unit_distance_cost, vt.unit_duration_cost) for vt in vehicle_types]
        ),
    )

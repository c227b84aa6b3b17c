"""
Plan big days by geographic decomposition, solving zones in parallel worker processes.

Pass 1 gives every order a home depot (nearest with room) and cuts each depot's orders into
angular sectors of at most ``max_zone_jobs``; vehicles are shared out in proportion to
demand, and the zones are solved independently. Pass 2 re-cuts every depot's orders with the
sector boundaries rotated by half a sector, regroups the pass-1 routes accordingly and
re-solves each group warm-started from its routes, so that stops on old boundaries can move
to the better route; leftovers get another chance, at the nearest depot with idle vehicles
when their own has none left.
"""

from __future__ import annotations

import math
import multiprocessing
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from lastmile.routing.checks import check_problem
from lastmile.routing.feasibility import diagnose_stop, static_obstacle
from lastmile.routing.geo import as_arrays, haversine_m
from lastmile.routing.geojson import line_string
from lastmile.routing.matrices import ProblemMatrices, build_matrices
from lastmile.routing.partition import allocate_counts, assign_depots, jobs_by_depot, sweep_sectors
from lastmile.routing.plan import (
    Plan,
    PlannedRoute,
    Progress,
    SearchStats,
    UnassignedJob,
    UnassignedReason,
)
from lastmile.routing.planner import plan_routes, plan_with_matrices
from lastmile.routing.problem import Job, PlanningOptions, Problem
from lastmile.routing.solver import ProgressCallback
from lastmile.routing.stops import Stop
from lastmile.routing.travel import TravelModel


@dataclass(frozen=True, slots=True)
class DecompositionOptions:
    """
    Tuning of the decomposition.

    Parameters
    ----------
    max_zone_jobs
        Most orders per zone; fewer orders in total means no decomposition at all.
    first_pass_share
        Share of the time limit spent on pass 1; the rest goes to pass 2.
    trips_per_reloading_vehicle
        Trips a vehicle allowed to reload is assumed to make when depots share out orders.
    """

    max_zone_jobs: int = 700
    first_pass_share: float = 0.6
    trips_per_reloading_vehicle: float = 2.0


@dataclass(frozen=True, slots=True)
class _Zone:
    problem: Problem
    initial: tuple[PlannedRoute, ...] = ()


def _zone_problem(
    problem: Problem, depot_id: str, jobs: Sequence[Job], counts: dict[str, int]
) -> Problem:
    vehicle_types = tuple(
        replace(vt, count=counts.get(vt.id, 0))
        for vt in problem.vehicle_types
        if vt.depot_id == depot_id
    )
    return replace(problem, vehicle_types=vehicle_types, jobs=tuple(jobs))


def _share_vehicles(
    problem: Problem,
    depot_id: str,
    groups: Sequence[Sequence[Job]],
    taken: Sequence[dict[str, int]],
) -> list[dict[str, int]]:
    """Vehicle counts per group: those already ``taken`` plus the rest by parcel demand."""
    demand = [float(sum(j.load.parcels for j in group)) for group in groups]
    shares: list[dict[str, int]] = [dict(t) for t in taken]
    for vt in problem.vehicle_types:
        if vt.depot_id != depot_id:
            continue
        spare = vt.count - sum(t.get(vt.id, 0) for t in taken)
        for share, extra in zip(shares, allocate_counts(spare, demand), strict=True):
            share[vt.id] = share.get(vt.id, 0) + extra
    return shares


def _first_pass(problem: Problem, options: DecompositionOptions) -> list[_Zone]:
    home = assign_depots(problem, options.trips_per_reloading_vehicle)
    zones: list[_Zone] = []
    locations = {d.id: d.location for d in problem.depots}
    for depot_id, jobs in jobs_by_depot(problem, home).items():
        sectors = sweep_sectors(
            locations[depot_id], jobs, math.ceil(len(jobs) / options.max_zone_jobs)
        )
        counts = _share_vehicles(problem, depot_id, sectors, [{} for _ in sectors])
        zones.extend(
            _Zone(_zone_problem(problem, depot_id, sector, c))
            for sector, c in zip(sectors, counts, strict=True)
        )
    return zones


def _rehome_leftovers(problem: Problem, plan: Plan, home: dict[str, str]) -> None:
    """
    Send pass-1 leftovers to the nearest other depot with idle vehicles that suit them.

    Their own depot's zone already failed to fit them; another depot's spare vehicles are the
    likeliest second chance. Leftovers no other depot can take stay home.
    """
    used = Counter(route.vehicle_type_id for route in plan.routes)
    jobs = {j.id: j for j in problem.jobs}
    dlat, dlon = as_arrays([d.location for d in problem.depots])
    for item in plan.unassigned:
        job = jobs[item.job_id]
        stop = Stop((job,))
        idle = {
            vt.depot_id
            for vt in problem.vehicle_types
            if vt.count > used[vt.id] and static_obstacle(stop, vt) is None
        } - {home.get(job.id)}
        lat, lon = as_arrays([job.location])
        for d in np.argsort(haversine_m(lat, lon, dlat, dlon), kind="stable"):
            if problem.depots[int(d)].id in idle:
                home[job.id] = problem.depots[int(d)].id
                break


def _second_pass(problem: Problem, plan: Plan, options: DecompositionOptions) -> list[_Zone]:
    """Regroup routes and leftovers around sector cuts rotated by half a sector."""
    jobs = {j.id: j for j in problem.jobs}
    route_of = {j: r for r, route in enumerate(plan.routes) for j in route.job_ids}
    home = assign_depots(problem, options.trips_per_reloading_vehicle)
    for route in plan.routes:
        home.update(dict.fromkeys(route.job_ids, route.start_depot_id))
    _rehome_leftovers(problem, plan, home)
    zones: list[_Zone] = []
    locations = {d.id: d.location for d in problem.depots}
    for depot_id, depot_jobs in jobs_by_depot(problem, home).items():
        sectors = sweep_sectors(
            locations[depot_id],
            depot_jobs,
            math.ceil(len(depot_jobs) / options.max_zone_jobs),
            rotation=0.5,
        )
        sector_of = {j.id: s for s, sector in enumerate(sectors) for j in sector}
        routes: list[list[PlannedRoute]] = [[] for _ in sectors]
        for route in plan.routes:
            if route.start_depot_id == depot_id:
                votes = [sector_of[j] for j in route.job_ids]
                routes[max(set(votes), key=lambda s: (votes.count(s), -s))].append(route)
        groups: list[list[Job]] = [
            [jobs[j] for route in group for j in route.job_ids] for group in routes
        ]
        for job in depot_jobs:
            if job.id not in route_of:
                groups[sector_of[job.id]].append(job)
        taken = [
            {vt.id: sum(r.vehicle_type_id == vt.id for r in group) for vt in problem.vehicle_types}
            for group in routes
        ]
        counts = _share_vehicles(problem, depot_id, groups, taken)
        for group, group_routes, c in zip(groups, routes, counts, strict=True):
            if group:
                zone = _zone_problem(problem, depot_id, group, c)
                zones.append(_Zone(zone, tuple(_renumber(group_routes))))
    return zones


def _renumber(routes: Sequence[PlannedRoute]) -> list[PlannedRoute]:
    seen: dict[str, int] = {}
    renumbered = []
    for route in routes:
        index = seen.get(route.vehicle_type_id, 0)
        seen[route.vehicle_type_id] = index + 1
        renumbered.append(replace(route, vehicle_index=index))
    return renumbered


def _solve_zones(
    zones: Sequence[_Zone],
    travel_model: TravelModel,
    budget_s: float,
    seed: int,
    workers: int,
    options: PlanningOptions,
) -> list[Plan]:
    per_zone = budget_s * min(workers, len(zones)) / len(zones)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures: list[Future[Plan]] = []
        for z, zone in enumerate(zones):
            matrices: ProblemMatrices = build_matrices(zone.problem, travel_model)
            futures.append(
                pool.submit(
                    plan_with_matrices,
                    zone.problem,
                    matrices,
                    time_limit_s=per_zone,
                    seed=seed + z,
                    options=options,
                    initial=zone.initial,
                )
            )
        return [f.result() for f in futures]


def _merge(problem: Problem, plans: Sequence[Plan], elapsed_s: float, seed: int) -> Plan:
    """One plan from zone plans, with vehicle indices made unique per vehicle type."""
    next_index: dict[str, int] = {}
    routes = []
    for plan in plans:
        for route in plan.routes:
            index = next_index.get(route.vehicle_type_id, 0)
            next_index[route.vehicle_type_id] = index + 1
            routes.append(replace(route, vehicle_index=index))
    stats = SearchStats(
        seed=seed,
        workers=len(plans),
        iterations=sum(p.stats.iterations for p in plans),
        runtime_s=elapsed_s,
        objective=sum(p.stats.objective for p in plans),
    )
    return Plan.of(problem, routes, (u for plan in plans for u in plan.unassigned), stats)


def _finish(problem: Problem, plan: Plan, travel_model: TravelModel) -> Plan:
    """Draw routes along the network and re-diagnose leftovers against the whole fleet."""
    depots = {d.id: d.location for d in problem.depots}
    routes = tuple(
        replace(
            route,
            geometry=line_string(
                travel_model.path(
                    [
                        depots[route.start_depot_id],
                        *(v.location for v in route.visits),
                        depots[route.end_depot_id],
                    ],
                    route.profile,
                )
            ),
        )
        for route in plan.routes
    )
    matrices = build_matrices(
        replace(problem, jobs=tuple(j for j in problem.jobs if j.id not in plan.assigned_job_ids)),
        travel_model,
    )
    jobs = {j.id: j for j in problem.jobs}
    unassigned = []
    for item in plan.unassigned:
        diagnosis = diagnose_stop(Stop((jobs[item.job_id],)), problem.vehicle_types, matrices)
        if diagnosis is None:
            item = UnassignedJob(item.job_id, UnassignedReason.FLEET, "no room left in its zone")
        else:
            item = UnassignedJob(item.job_id, *diagnosis)
        unassigned.append(item)
    return replace(plan, routes=routes, unassigned=tuple(unassigned))


def plan_routes_decomposed(
    problem: Problem,
    travel_model: TravelModel,
    *,
    time_limit_s: float,
    seed: int = 0,
    workers: int = 2,
    options: PlanningOptions = PlanningOptions(),
    decomposition: DecompositionOptions = DecompositionOptions(),
    on_progress: ProgressCallback | None = None,
) -> Plan:
    """
    Plan a big day zone by zone; small days go straight to :func:`plan_routes`.

    Parameters
    ----------
    problem
        Depots, fleet and orders.
    travel_model
        Source of matrices and geometry; matrices are only computed within zones.
    time_limit_s
        Wall-clock budget of both passes' searches.
    seed
        Base seed; zone ``z`` of a pass searches with ``seed + z``.
    workers
        Worker processes solving zones at once.
    options
        Objective tuning, as for :func:`plan_routes`.
    decomposition
        Zone size and time split.
    on_progress
        Called after each pass with the cost so far.

    Returns
    -------
    Plan
        As :func:`plan_routes`; leftovers that the whole fleet could serve are reported as
        ``fleet``.
    """
    check_problem(problem)
    if len(problem.jobs) <= decomposition.max_zone_jobs:
        return plan_routes(
            problem,
            travel_model,
            time_limit_s=time_limit_s,
            seed=seed,
            workers=workers,
            on_progress=on_progress,
            options=options,
        )
    started = time.time()
    first_budget = time_limit_s * decomposition.first_pass_share
    zones = _first_pass(problem, decomposition)
    plan = _merge(
        problem,
        _solve_zones(zones, travel_model, first_budget, seed, workers, options),
        time.time() - started,
        seed,
    )
    if on_progress is not None:
        on_progress(Progress(time.time() - started, time_limit_s, plan.stats.objective, True))
    second_budget = max(0.0, started + time_limit_s - time.time())
    zones = _second_pass(problem, plan, decomposition)
    plan = _merge(
        problem,
        _solve_zones(zones, travel_model, second_budget, seed + len(zones), workers, options),
        time.time() - started,
        seed,
    )
    if on_progress is not None:
        on_progress(Progress(time.time() - started, time_limit_s, plan.stats.objective, True))
    return _finish(problem, plan, travel_model)

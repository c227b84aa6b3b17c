"""The planning entry points: problem and travel model in, plan out."""

from __future__ import annotations

from collections.abc import Sequence

from lastmile.routing.checks import check_problem
from lastmile.routing.feasibility import diagnose_stop
from lastmile.routing.formulation import SolverInstance, formulate
from lastmile.routing.matrices import ProblemMatrices, build_matrices
from lastmile.routing.plan import (
    Plan,
    PlannedRoute,
    SearchStats,
    UnassignedJob,
    UnassignedReason,
    VisitKind,
)
from lastmile.routing.problem import PlanningOptions, Problem
from lastmile.routing.routes import DraftVisit, RouteBuilder
from lastmile.routing.search import run_search
from lastmile.routing.solver import ProgressCallback, SearchLimits, SolverResult, SolverRoute
from lastmile.routing.stops import Stop, merge_jobs_into_stops
from lastmile.routing.travel import TravelModel


def plan_routes(
    problem: Problem,
    travel_model: TravelModel,
    *,
    time_limit_s: float,
    seed: int = 0,
    workers: int = 1,
    max_iterations: int | None = None,
    on_progress: ProgressCallback | None = None,
    options: PlanningOptions = PlanningOptions(),
) -> Plan:
    """
    Plan the routes of ``problem`` with travel times from ``travel_model``.

    Parameters
    ----------
    problem
        Depots, fleet and orders.
    travel_model
        Source of matrices (per profile) and of route geometry.
    time_limit_s
        Wall-clock budget of the search (matrices and assembly come on top).
    seed
        Seed of the search; with ``max_iterations`` the plan is reproducible.
    workers
        Searches run at once with seeds ``seed, seed + 1, ...``; the best is kept.
    max_iterations
        Iteration limit per search; the search stops at whichever limit comes first.
    on_progress
        Called about every half second with a :class:`~lastmile.routing.plan.Progress`.
    options
        Objective tuning.

    Returns
    -------
    Plan
        Routes, the orders left out with reasons, and totals.

    Raises
    ------
    InvalidProblem
        When the problem is inconsistent (unknown depot, no vehicles, malformed windows...).
    """
    check_problem(problem)
    matrices = build_matrices(problem, travel_model)
    return plan_with_matrices(
        problem,
        matrices,
        time_limit_s=time_limit_s,
        seed=seed,
        workers=workers,
        max_iterations=max_iterations,
        on_progress=on_progress,
        options=options,
        geometry=travel_model,
    )


def plan_with_matrices(
    problem: Problem,
    matrices: ProblemMatrices,
    *,
    time_limit_s: float,
    seed: int = 0,
    workers: int = 1,
    max_iterations: int | None = None,
    on_progress: ProgressCallback | None = None,
    options: PlanningOptions = PlanningOptions(),
    geometry: TravelModel | None = None,
    initial: Sequence[PlannedRoute] = (),
) -> Plan:
    """
    :func:`plan_routes` with precomputed matrices, e.g. to validate against them afterwards.

    ``geometry`` draws routes along the network; without it they are straight lines.
    ``initial`` warm-starts the search from routes of an earlier plan (e.g. to re-plan after
    a change); orders and vehicles they mention that no longer exist are ignored.
    """
    check_problem(problem)
    stops = merge_jobs_into_stops(
        problem.jobs, [vt.capacity for vt in problem.vehicle_types], merge=options.merge_stops
    )
    unassigned: list[UnassignedJob] = []
    plannable: list[Stop] = []
    for stop in stops:
        diagnosis = diagnose_stop(stop, problem.vehicle_types, matrices)
        if diagnosis is None:
            plannable.append(stop)
        else:
            reason, detail = diagnosis
            unassigned.extend(UnassignedJob(j, reason, detail) for j in stop.job_ids)

    limits = SearchLimits(time_limit_s=time_limit_s, max_iterations=max_iterations)
    if plannable:
        instance = formulate(problem, plannable, matrices, options)
        warm = warm_start(problem, plannable, instance, initial)
        result = run_search(
            instance, limits, seed=seed, workers=workers, on_progress=on_progress, initial=warm
        )
        routes, lost = assemble_routes(problem, matrices, plannable, instance, result, geometry)
        unassigned.extend(lost)
        stats = SearchStats(seed, workers, result.iterations, result.runtime_s, result.objective)
    else:
        routes, stats = [], SearchStats(seed, workers, 0, 0.0, 0)
    return Plan.of(problem, routes, unassigned, stats)


def warm_start(
    problem: Problem,
    stops: Sequence[Stop],
    instance: SolverInstance,
    routes: Sequence[PlannedRoute],
) -> list[SolverRoute]:
    """Solver routes equivalent to ``routes``, as far as they fit the current instance."""
    stop_of_job = {job.id: s for s, stop in enumerate(stops) for job in stop.jobs}
    clients_of_stop: dict[int, list[int]] = {}
    for c, client in enumerate(instance.clients):
        clients_of_stop.setdefault(client.stop, []).append(c)
    type_index = {
        problem.vehicle_types[vt.source].id: i for i, vt in enumerate(instance.vehicle_types)
    }
    depot_index = {d.id: i for i, d in enumerate(problem.depots)}
    left = {i: vt.count for i, vt in enumerate(instance.vehicle_types)}
    used: set[int] = set()
    warm: list[SolverRoute] = []
    for route in routes:
        vehicle_type = type_index.get(route.vehicle_type_id)
        if vehicle_type is None or left[vehicle_type] == 0:
            continue
        trips: list[list[int]] = [[]]
        reloads: list[int] = []
        for visit in route.visits:
            if visit.kind is VisitKind.RELOAD and visit.depot_id in depot_index:
                trips.append([])
                reloads.append(depot_index[visit.depot_id])
                continue
            s = stop_of_job.get(visit.job_ids[0]) if visit.job_ids else None
            if s is None or s in used:
                continue
            used.add(s)
            candidates = clients_of_stop[s]
            same_window = [c for c in candidates if instance.clients[c].window == visit.window]
            trips[-1].append((same_window or candidates)[0])
        if any(trips):
            left[vehicle_type] -= 1
            warm.append(SolverRoute(vehicle_type, tuple(map(tuple, trips)), tuple(reloads), 0))
    return warm


def assemble_routes(
    problem: Problem,
    matrices: ProblemMatrices,
    stops: Sequence[Stop],
    instance: SolverInstance,
    result: SolverResult,
    geometry: TravelModel | None,
) -> tuple[list[PlannedRoute], list[UnassignedJob]]:
    """Timed routes from a solver result, and the orders that did not make it into one."""
    builder = RouteBuilder(problem, matrices, geometry)
    depot_ids = [d.id for d in problem.depots]
    routes: list[PlannedRoute] = []
    lost: list[UnassignedJob] = []
    served: set[int] = set()
    next_index: dict[int, int] = {}
    for solver_route in result.routes:
        source = instance.vehicle_types[solver_route.vehicle_type].source
        visits: list[DraftVisit] = []
        for k, trip in enumerate(solver_route.trips):
            if k > 0:
                depot = depot_ids[solver_route.reload_depots[k - 1]]
                visits.append(DraftVisit(stop=None, depot_id=depot))
            for c in trip:
                client = instance.clients[c]
                visits.append(DraftVisit(stop=stops[client.stop], window=client.window))
                served.add(client.stop)
        index = next_index.get(source, 0)
        route, dropped = builder.build(source, index, visits, solver_route.start_s)
        for drop in dropped:
            lost.extend(UnassignedJob(j, drop.reason, drop.detail) for j in drop.stop.job_ids)
        if route is not None:
            routes.append(route)
            next_index[source] = index + 1
    formulated = {client.stop for client in instance.clients}
    for s, stop in enumerate(stops):
        if s in formulated and s not in served:
            lost.extend(
                UnassignedJob(j, UnassignedReason.FLEET, "no vehicle had room or time left")
                for j in stop.job_ids
            )
        elif s not in formulated:
            lost.extend(
                UnassignedJob(j, UnassignedReason.WINDOW, "no window left after release and breaks")
                for j in stop.job_ids
            )
    return routes, lost

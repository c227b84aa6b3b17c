"""Run PyVRP's iterated local search on a solver instance (the only module importing pyvrp)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvrp
from pyvrp.search import (
    OPERATORS,
    LocalSearch,
    NeighbourhoodParams,
    PerturbationManager,
    PerturbationParams,
    compute_neighbours,
)
from pyvrp.stop import MaxIterations

from lastmile.routing.formulation import SolverInstance
from lastmile.routing.plan import Progress

ProgressCallback = Callable[[Progress], None]

PROGRESS_INTERVAL_S = 0.5

MAX_PENALTY = 1e9
"""Cap on a penalty per unit of violation: times the largest violations (a few PROHIBITIVE
arcs) it stays below 2**63, where PyVRP's integer costs would overflow and its search loop."""


@dataclass(frozen=True, slots=True)
class SolverRoute:
    """
    A route as the solver returns it.

    ``trips`` lists client indices per trip; between trip ``k`` and ``k + 1`` the vehicle
    reloads at depot ``reload_depots[k]``.
    """

    vehicle_type: int
    trips: tuple[tuple[int, ...], ...]
    reload_depots: tuple[int, ...]
    start_s: int


@dataclass(frozen=True, slots=True)
class SolverResult:
    """The best solution of one search, with its objective value in cost units."""

    routes: tuple[SolverRoute, ...]
    objective: int
    feasible: bool
    iterations: int
    runtime_s: float
    seed: int


@dataclass(frozen=True, slots=True)
class SearchLimits:
    """
    When a search stops: at the time limit, or after ``max_iterations`` if that comes first.

    Only the iteration limit makes a search reproducible; the time limit depends on the
    machine's speed.
    """

    time_limit_s: float
    max_iterations: int | None = None


class _Deadline:
    def __init__(self, limits: SearchLimits, started: float) -> None:
        self._deadline = started + limits.time_limit_s  # wall clock: shared across processes
        self._iterations = (
            MaxIterations(limits.max_iterations) if limits.max_iterations is not None else None
        )

    def __call__(self, best_cost: int) -> bool:
        if self._iterations is not None and self._iterations(best_cost):
            return True
        return time.time() >= self._deadline


class _ProgressReporter(pyvrp.IteratedLocalSearchCallbacks):
    def __init__(self, callback: ProgressCallback, limits: SearchLimits, started: float):
        self._callback = callback
        self._limits = limits
        self._started = started
        self._last = started

    def on_iteration(
        self,
        current: pyvrp.Solution,
        candidate: pyvrp.Solution,
        best: pyvrp.Solution,
        cost_evaluator: pyvrp.CostEvaluator,
    ) -> None:
        now = time.time()
        if now - self._last >= PROGRESS_INTERVAL_S:
            self._last = now
            self._callback(
                Progress(
                    elapsed_s=now - self._started,
                    time_limit_s=self._limits.time_limit_s,
                    best_objective=int(cost_evaluator.cost(best)),
                    feasible=best.is_feasible(),
                )
            )


def to_problem_data(instance: SolverInstance) -> pyvrp.ProblemData:
    """PyVRP problem data for ``instance``."""
    locations = [pyvrp.Location(x=float(x), y=float(y)) for x, y in instance.coordinates]
    clients = [
        pyvrp.Client(
            location=c.location,
            delivery=list(c.delivery),
            service_duration=c.service_s,
            tw_early=c.tw_early,
            tw_late=c.tw_late,
            release_time=c.release_s,
            prize=c.prize,
            required=c.required,
            group=c.group,
        )
        for c in instance.clients
    ]
    groups = [pyvrp.ClientGroup(list(members), required) for members, required in instance.groups]
    vehicle_types = [
        pyvrp.VehicleType(
            num_available=vt.count,
            capacity=list(vt.capacity),
            start_depot=vt.start_depot,
            end_depot=vt.end_depot,
            fixed_cost=vt.fixed_cost,
            tw_early=vt.tw_early,
            tw_late=vt.tw_late,
            max_distance=vt.max_distance,
            unit_distance_cost=vt.unit_distance_cost,
            unit_duration_cost=vt.unit_duration_cost,
            profile=vt.profile,
            reload_depots=list(vt.reload_depots),
        )
        for vt in instance.vehicle_types
    ]
    # PyVRP wants int64 matrices (its stubs spell them ndarray[int]); it copies them anyway.
    distance: list[Any] = [m.astype(np.int64) for m in instance.distance]
    duration: list[Any] = [m.astype(np.int64) for m in instance.duration]
    return pyvrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=[pyvrp.Depot(location=d) for d in range(instance.num_depots)],
        vehicle_types=vehicle_types,
        distance_matrices=distance,
        duration_matrices=duration,
        groups=groups,
    )


def _penalty_manager(instance: SolverInstance, data: pyvrp.ProblemData) -> pyvrp.PenaltyManager:
    """
    PyVRP's penalty schedule, rescaled to this instance's costs.

    PyVRP tunes its penalties for unit costs of about 1; ours are ``cost_scale`` times larger,
    so its bounds and starting point scale with them. The ceiling also lets a unit of
    violation outweigh the prize of an order, or the search could prefer overloading a
    vehicle to leaving an order out.
    """
    defaults = pyvrp.PenaltyParams()
    scale = float(instance.cost_scale)
    ceiling = max(
        defaults.max_penalty * scale, 2.0 * max((c.prize for c in instance.clients), default=0)
    )
    params = pyvrp.PenaltyParams(
        min_penalty=defaults.min_penalty * scale, max_penalty=min(ceiling, MAX_PENALTY)
    )
    start = min(params.max_penalty, scale * (defaults.min_penalty + defaults.max_penalty) / 2)
    return pyvrp.PenaltyManager(([start] * data.num_load_dimensions, start, start), params)


def _to_pyvrp_solution(data: pyvrp.ProblemData, routes: Sequence[SolverRoute]) -> pyvrp.Solution:
    converted = []
    for route in routes:
        activities = []
        for k, trip in enumerate(route.trips):
            if k > 0:
                depot = route.reload_depots[k - 1]
                activities.append(pyvrp.Activity(pyvrp.ActivityType.DEPOT, depot))
            activities.extend(pyvrp.Activity(pyvrp.ActivityType.CLIENT, c) for c in trip)
        converted.append(pyvrp.Route(data, activities, route.vehicle_type))
    return pyvrp.Solution(data, converted)


def _from_pyvrp_route(route: pyvrp.Route) -> SolverRoute:
    trips: list[tuple[int, ...]] = []
    reloads: list[int] = []
    current: list[int] = []
    activities = list(route)
    for activity in activities[1:-1]:
        if activity.is_depot():
            trips.append(tuple(current))
            reloads.append(activity.idx)
            current = []
        else:
            current.append(activity.idx)
    trips.append(tuple(current))
    return SolverRoute(
        vehicle_type=route.vehicle_type(),
        trips=tuple(trips),
        reload_depots=tuple(reloads),
        start_s=int(route.start_time()),
    )


def solve_instance(
    instance: SolverInstance,
    limits: SearchLimits,
    seed: int,
    *,
    on_progress: ProgressCallback | None = None,
    initial: Sequence[SolverRoute] | None = None,
    started: float | None = None,
) -> SolverResult:
    """
    Search for the cheapest solution of ``instance``.

    Parameters
    ----------
    instance
        Formulated problem.
    limits
        Time and iteration limits; the time limit includes building the solver's data.
    seed
        Random seed; with an iteration limit, equal seeds give equal results.
    on_progress
        Called about every half second with the best solution's objective.
    initial
        Warm-start routes, e.g. from a previous plan of the same orders.
    started
        Unix time the time limit counts from; defaults to now.
    """
    started = time.time() if started is None else started
    stop = _Deadline(limits, started)
    data = to_problem_data(instance)
    rng = pyvrp.RandomNumberGenerator(seed=seed)
    neighbours = compute_neighbours(
        data, NeighbourhoodParams(num_neighbours=instance.num_neighbours)
    )
    search = LocalSearch(data, rng, neighbours, PerturbationManager(PerturbationParams()))
    for operator in OPERATORS:
        if operator.supports(data):
            search.add_operator(operator(data))
    penalties = _penalty_manager(instance, data)
    if initial:
        start = _to_pyvrp_solution(data, initial)
    else:
        random = pyvrp.Solution.make_random(data, rng)
        start = search(random, penalties.max_cost_evaluator(), exhaustive=True)
    callbacks = (
        _ProgressReporter(on_progress, limits, started)
        if on_progress is not None
        else pyvrp.IteratedLocalSearchCallbacks()
    )
    algorithm = pyvrp.IteratedLocalSearch(
        data, penalties, search, start, pyvrp.IteratedLocalSearchParams(callbacks=callbacks)
    )
    result = algorithm.run(stop, collect_stats=False)
    best = result.best
    cost = pyvrp.CostEvaluator([0] * data.num_load_dimensions, 0, 0).cost(best)
    return SolverResult(
        routes=tuple(_from_pyvrp_route(r) for r in best.routes()),
        objective=int(cost),
        feasible=best.is_feasible(),
        iterations=result.num_iterations,
        runtime_s=time.time() - started,
        seed=seed,
    )

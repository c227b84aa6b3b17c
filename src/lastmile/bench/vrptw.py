"""``lastmile bench vrptw``: Solomon VRPTW instances through the planner, against peers.

Our solver runs through the product's own path (Solomon data become planning dataclasses and
go through ``plan_with_matrices``); OR-Tools and VROOM solve the same integer matrices with the
same time budget. Gaps are to the best-known solutions in ``bks.csv`` under the chosen
convention:

- ``dimacs`` (default): distance-only objective, every arc distance and travel time truncated
  to one decimal; compared with ``dimacs_bks_distance_trunc1``;
- ``real``: real-valued Euclidean distances (to 1e-4); compared with
  ``dimacs_bks_routes_real_euclid`` (approximate where ``dimacs_bks_routes_feasible_real`` is
  False).
"""

from __future__ import annotations

import csv
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from lastmile.routing import (
    Coordinate,
    Depot,
    Job,
    Load,
    PlanningOptions,
    Problem,
    ProblemMatrices,
    TimeWindow,
    TravelMatrices,
    VehicleType,
    index_points,
    plan_with_matrices,
)
from lastmile.routing.formulation import COST_UNITS_PER_CURRENCY

Convention = Literal["dimacs", "real"]
ProgressHook = Callable[[int, int, str], None]
"""Called as ``hook(done, total, label)`` after each solver run on an instance."""

SCALE = {"dimacs": 10, "real": 10_000}
BKS_COLUMN = {"dimacs": "dimacs_bks_distance_trunc1", "real": "dimacs_bks_routes_real_euclid"}
PEERS = ("ortools", "vroom")


@dataclass(frozen=True, slots=True)
class SolomonInstance:
    """A Solomon instance: row 0 is the depot, ``horizon`` its due date."""

    name: str
    vehicles: int
    capacity: int
    xy: NDArray[np.float64]
    demand: NDArray[np.int64]
    ready: NDArray[np.int64]
    due: NDArray[np.int64]
    service: NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Solved:
    """One solver's answer: total distance in instance units, or None if infeasible."""

    distance: float | None
    vehicles: int
    seconds: float


def read_solomon(path: Path) -> SolomonInstance:
    """Parse a Solomon text file."""
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    vehicles, capacity = (int(v) for v in lines[3])
    rows = np.asarray([[float(v) for v in line] for line in lines[6:]], dtype=np.float64)
    as_int = rows.astype(np.int64)
    return SolomonInstance(
        name=lines[0][0],
        vehicles=vehicles,
        capacity=capacity,
        xy=rows[:, 1:3],
        demand=as_int[:, 3],
        ready=as_int[:, 4],
        due=as_int[:, 5],
        service=as_int[:, 6],
    )


def distance_matrix(instance: SolomonInstance, convention: Convention) -> NDArray[np.int64]:
    """Integer arc lengths in units of 1/SCALE: truncated (DIMACS) or rounded (real)."""
    diff = instance.xy[:, None, :] - instance.xy[None, :, :]
    scaled = np.sqrt((diff**2).sum(axis=2)) * SCALE[convention]
    # The epsilon keeps exact values such as 10.0 from truncating to 9.9 through float error.
    rounded = np.floor(scaled + 1e-7) if convention == "dimacs" else np.rint(scaled)
    matrix: NDArray[np.int64] = rounded.astype(np.int64)
    return matrix


def to_problem(instance: SolomonInstance, convention: Convention) -> Problem:
    """The instance as planning dataclasses; times are scaled like distances."""
    scale = SCALE[convention]

    def place(i: int) -> Coordinate:
        # Dummy coordinates: distinct per node, only read by drawing code.
        return Coordinate(lat=float(instance.xy[i, 1]) / 1000, lon=float(instance.xy[i, 0]) / 1000)

    jobs = tuple(
        Job(
            id=str(i),
            location=place(i),
            load=Load(parcels=int(instance.demand[i])),
            service_s=int(instance.service[i]) * scale,
            windows=(TimeWindow(int(instance.ready[i]) * scale, int(instance.due[i]) * scale),),
        )
        for i in range(1, len(instance.xy))
    )
    fleet = VehicleType(
        id="vehicle",
        depot_id="depot",
        capacity=Load(parcels=instance.capacity),
        shift_start_s=int(instance.ready[0]) * scale,
        shift_end_s=int(instance.due[0]) * scale,
        count=instance.vehicles,
        # One cost unit per arc unit: the scale PyVRP's search and penalties are tuned for.
        cost_per_km=1000 / COST_UNITS_PER_CURRENCY,
        cost_per_hour=0.0,
    )
    return Problem(depots=(Depot("depot", place(0)),), vehicle_types=(fleet,), jobs=jobs)


def solve_ours(
    instance: SolomonInstance, convention: Convention, time_limit_s: float, workers: int, seed: int
) -> Solved:
    """Solve through the planner with a distance-only objective and every order required."""
    problem = to_problem(instance, convention)
    points, depot_point, job_point = index_points(problem)
    matrix = distance_matrix(instance, convention)
    row_of_point = {depot_point["depot"]: 0}
    for job_id, point in job_point.items():
        row_of_point.setdefault(point, int(job_id))  # coinciding customers share a point
    order = [row_of_point[p] for p in range(len(points))]
    travel = matrix[np.ix_(order, order)]
    matrices = ProblemMatrices(
        points=tuple(points),
        depot_point=depot_point,
        job_point=job_point,
        by_profile={problem.vehicle_types[0].profile: TravelMatrices(travel, travel.copy())},
    )
    options = PlanningOptions(allow_unassigned=False, merge_stops=False)
    start = time.perf_counter()
    plan = plan_with_matrices(
        problem, matrices, time_limit_s=time_limit_s, seed=seed, workers=workers, options=options
    )
    seconds = time.perf_counter() - start
    if plan.unassigned:
        return Solved(None, len(plan.routes), seconds)
    return Solved(plan.distance_m / SCALE[convention], len(plan.routes), seconds)


def _route_distance(matrix: NDArray[np.int64], routes: Sequence[Sequence[int]]) -> int:
    return sum(
        int(matrix[a, b]) for route in routes for a, b in zip([0, *route], [*route, 0], strict=True)
    )


def solve_ortools(instance: SolomonInstance, convention: Convention, time_limit_s: float) -> Solved:
    """OR-Tools routing: PATH_CHEAPEST_ARC, then guided local search until the time limit."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    scale = SCALE[convention]
    matrix = distance_matrix(instance, convention)
    n = len(instance.xy)
    manager = pywrapcp.RoutingIndexManager(n, instance.vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)

    def arc(i: int, j: int) -> int:
        return int(matrix[manager.IndexToNode(i), manager.IndexToNode(j)])

    def time_with_service(i: int, j: int) -> int:
        node = manager.IndexToNode(i)
        return int(instance.service[node]) * scale + int(matrix[node, manager.IndexToNode(j)])

    def demand(i: int) -> int:
        return int(instance.demand[manager.IndexToNode(i)])

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(arc))
    horizon = int(instance.due[0]) * scale
    routing.AddDimension(
        routing.RegisterTransitCallback(time_with_service), horizon, horizon, False, "time"
    )
    clock = routing.GetDimensionOrDie("time")
    for node in range(1, n):
        clock.CumulVar(manager.NodeToIndex(node)).SetRange(
            int(instance.ready[node]) * scale, int(instance.due[node]) * scale
        )
    for vehicle in range(instance.vehicles):
        clock.CumulVar(routing.Start(vehicle)).SetRange(0, horizon)
        clock.CumulVar(routing.End(vehicle)).SetRange(0, horizon)
    # Dropping a customer at a prohibitive penalty lets PATH_CHEAPEST_ARC always produce a
    # first solution on tight windows; answers that still drop customers count as failed.
    penalty = int(matrix.sum())
    for node in range(1, n):
        routing.AddDisjunction([manager.NodeToIndex(node)], penalty)
    routing.AddDimensionWithVehicleCapacity(
        routing.RegisterUnaryTransitCallback(demand),
        0,
        [instance.capacity] * instance.vehicles,
        True,
        "load",
    )
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(time_limit_s * 1000))
    start = time.perf_counter()
    solution = routing.SolveWithParameters(params)
    seconds = time.perf_counter() - start
    if solution is None:
        return Solved(None, 0, seconds)
    if any(
        solution.Value(routing.NextVar(manager.NodeToIndex(i))) == manager.NodeToIndex(i)
        for i in range(1, n)
    ):
        return Solved(None, 0, seconds)
    routes = []
    for vehicle in range(instance.vehicles):
        index = solution.Value(routing.NextVar(routing.Start(vehicle)))
        route = []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        if route:
            routes.append(route)
    return Solved(_route_distance(matrix, routes) / scale, len(routes), seconds)


def solve_vroom(
    instance: SolomonInstance, convention: Convention, time_limit_s: float, workers: int
) -> Solved:
    """VROOM at its highest exploration level, costs = the distance matrix."""
    import vroom

    scale = SCALE[convention]
    matrix = distance_matrix(instance, convention)
    problem = vroom.Input()
    problem.set_durations_matrix("car", matrix)
    problem.set_costs_matrix("car", matrix)
    horizon = vroom.TimeWindow(int(instance.ready[0]) * scale, int(instance.due[0]) * scale)
    for v in range(instance.vehicles):
        problem.add_vehicle(
            vroom.Vehicle(
                v, start=0, end=0, capacity=vroom.Amount([instance.capacity]), time_window=horizon
            )
        )
    for i in range(1, len(instance.xy)):
        window = vroom.TimeWindow(int(instance.ready[i]) * scale, int(instance.due[i]) * scale)
        problem.add_job(
            vroom.Job(
                i,
                location=i,
                delivery=vroom.Amount([int(instance.demand[i])]),
                default_service=int(instance.service[i]) * scale,
                time_windows=[window],
            )
        )
    start = time.perf_counter()
    solution = problem.solve(
        exploration_level=5, nb_threads=workers, timeout=timedelta(seconds=time_limit_s)
    ).to_dict()
    seconds = time.perf_counter() - start
    if solution["summary"]["unassigned"]:
        return Solved(None, len(solution["routes"]), seconds)
    routes = [
        [step["location_index"] for step in route["steps"] if step["type"] == "job"]
        for route in solution["routes"]
    ]
    return Solved(_route_distance(matrix, routes) / scale, len(routes), seconds)


def _gap(distance: float | None, bks: float) -> float | None:
    return None if distance is None else round(100 * (distance - bks) / bks, 3)


def _summary(gaps: Sequence[float | None]) -> dict[str, Any]:
    solved = [g for g in gaps if g is not None]
    return {
        "mean_gap_pct": round(statistics.fmean(solved), 3) if solved else math.nan,
        "median_gap_pct": round(statistics.median(solved), 3) if solved else math.nan,
        "solved": len(solved),
        "failed": len(gaps) - len(solved),
    }


def run(
    instances_dir: Path,
    time_limit_s: float = 10.0,
    peers: Sequence[str] = PEERS,
    convention: Convention = "dimacs",
    workers: int = 2,
    instances: Sequence[str] | None = None,
    seed: int = 0,
    on_progress: ProgressHook | None = None,
) -> dict[str, Any]:
    """
    Solve Solomon instances with the planner and the peers; report gaps to the BKS.

    Parameters
    ----------
    instances_dir
        Folder with ``<NAME>.txt`` Solomon files and ``bks.csv``.
    time_limit_s
        Budget per instance and solver.
    peers
        Any of ``"ortools"`` and ``"vroom"``; run on the same instances, same budget.
    convention
        ``"dimacs"`` (one-decimal truncation, default) or ``"real"`` (see module notes).
    workers
        Cores our planner and VROOM may use (OR-Tools routing is single-threaded).
    instances
        Instance names to run (e.g. ``["C101", "R101"]``); default: every row of bks.csv.
    seed
        Seed of our planner.
    on_progress
        Hook called after each solver run with ``(done, total, label)``.

    Returns
    -------
    dict
        ``instances`` (per-instance rows), ``mean_gap_pct``, ``median_gap_pct``, ``solved``,
        ``failed`` for our planner, and ``peers: {name: {mean_gap_pct, median_gap_pct, ...}}``.
        Gaps are percentages over the BKS; infeasible answers count as failed, not in means.
    """
    unknown = set(peers) - set(PEERS)
    if unknown:
        raise ValueError(f"unknown peers: {sorted(unknown)}")
    with (instances_dir / "bks.csv").open() as fh:
        bks = {row["instance"]: float(row[BKS_COLUMN[convention]]) for row in csv.DictReader(fh)}
    names = list(instances) if instances is not None else list(bks)
    total = len(names) * (1 + len(peers))
    done = 0
    rows: list[dict[str, Any]] = []
    for name in names:
        instance = read_solomon(instances_dir / f"{name}.txt")
        answers = {"lastmile": solve_ours(instance, convention, time_limit_s, workers, seed)}
        done += 1
        if on_progress is not None:
            on_progress(done, total, f"{name} lastmile")
        for peer in peers:
            if peer == "ortools":
                answers[peer] = solve_ortools(instance, convention, time_limit_s)
            else:
                answers[peer] = solve_vroom(instance, convention, time_limit_s, workers)
            done += 1
            if on_progress is not None:
                on_progress(done, total, f"{name} {peer}")
        rows.append(
            {
                "instance": name,
                "bks": bks[name],
                **{
                    f"{solver}_{field}": value
                    for solver, answer in answers.items()
                    for field, value in (
                        ("distance", answer.distance),
                        ("vehicles", answer.vehicles),
                        ("gap_pct", _gap(answer.distance, bks[name])),
                        ("seconds", round(answer.seconds, 2)),
                    )
                },
            }
        )
    ours = _summary([row["lastmile_gap_pct"] for row in rows])
    return {
        "convention": convention,
        "time_limit_s": time_limit_s,
        "workers": workers,
        "instances": rows,
        **ours,
        "peers": {peer: _summary([row[f"{peer}_gap_pct"] for row in rows]) for peer in peers},
    }

"""Reject problems that cannot be planned as stated, before any work is done."""

from __future__ import annotations

import math
from collections.abc import Iterable

from lastmile.routing.errors import InvalidProblem
from lastmile.routing.geo import Coordinate
from lastmile.routing.problem import Break, Load, Problem, TimeWindow, VehicleType


def check_problem(problem: Problem) -> None:
    """
    Raise :class:`InvalidProblem` for the first inconsistency in ``problem``.

    Checks identifiers, references between depots and vehicle types, coordinates, signs of
    loads, times and costs, and that windows, shifts and breaks are well-formed and not in
    the past. Orders that merely cannot fit (too heavy, unreachable in time) are not errors:
    the planner reports them as unassigned with a reason.
    """
    if not problem.depots:
        raise InvalidProblem("at least one depot is required", "depots")
    if sum(vt.count for vt in problem.vehicle_types) == 0:
        raise InvalidProblem("at least one vehicle is required", "vehicle_types")
    _check_unique((d.id for d in problem.depots), "depots")
    _check_unique((vt.id for vt in problem.vehicle_types), "vehicle_types")
    _check_unique((j.id for j in problem.jobs), "jobs")
    depot_ids = {d.id for d in problem.depots}
    for i, depot in enumerate(problem.depots):
        _check_coordinate(depot.location, f"depots[{i}].location")
    for i, vehicle_type in enumerate(problem.vehicle_types):
        _check_vehicle_type(vehicle_type, depot_ids, problem.now_s, f"vehicle_types[{i}]")
    for i, job in enumerate(problem.jobs):
        field = f"jobs[{i}]"
        _check_coordinate(job.location, f"{field}.location")
        _check_load(job.load, f"{field}.load")
        if min(job.service_s, job.setup_s, job.release_s) < 0:
            raise InvalidProblem("service, setup and release times cannot be negative", field)
        for k, window in enumerate(job.windows):
            _check_window(window, problem.now_s, f"{field}.windows[{k}]")


def _check_unique(ids: Iterable[str], field: str) -> None:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            raise InvalidProblem(f"duplicate id {ident!r}", f"{field}[{i}].id")
        seen.add(ident)


def _check_coordinate(point: Coordinate, field: str) -> None:
    if not (math.isfinite(point.lat) and math.isfinite(point.lon)):
        raise InvalidProblem("coordinates must be finite numbers", field)
    if not (-90 <= point.lat <= 90 and -180 <= point.lon <= 180):
        raise InvalidProblem("latitude or longitude out of range", field)


def _check_load(load: Load, field: str) -> None:
    values = (load.parcels, load.kg, load.litres)
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise InvalidProblem("loads and capacities must be finite and non-negative", field)


def _check_window(window: TimeWindow, now_s: int, field: str) -> None:
    if window.end_s < window.start_s:
        raise InvalidProblem("window ends before it starts", field)
    if window.end_s < now_s:
        raise InvalidProblem("window is in the past", field)


def _check_break(brk: Break, vehicle_type: VehicleType, field: str) -> None:
    if brk.duration_s <= 0:
        raise InvalidProblem("break duration must be positive", field)
    if brk.latest_start_s < brk.earliest_start_s:
        raise InvalidProblem("break window ends before it starts", field)
    if (
        brk.earliest_start_s < vehicle_type.shift_start_s
        or brk.latest_start_s + brk.duration_s > vehicle_type.shift_end_s
    ):
        raise InvalidProblem("break does not fit within the shift", field)


def _check_vehicle_type(
    vehicle_type: VehicleType, depot_ids: set[str], now_s: int, field: str
) -> None:
    for name in (vehicle_type.depot_id, vehicle_type.return_depot_id):
        if name not in depot_ids:
            raise InvalidProblem(f"unknown depot {name!r}", f"{field}.depot_id")
    for name in vehicle_type.reload_depot_ids:
        if name not in depot_ids:
            raise InvalidProblem(f"unknown depot {name!r}", f"{field}.reload_depot_ids")
    if vehicle_type.count < 0:
        raise InvalidProblem("vehicle count cannot be negative", f"{field}.count")
    _check_load(vehicle_type.capacity, f"{field}.capacity")
    if vehicle_type.shift_end_s < vehicle_type.shift_start_s:
        raise InvalidProblem("shift ends before it starts", f"{field}.shift_end_s")
    if vehicle_type.shift_end_s < now_s:
        raise InvalidProblem("shift is in the past", f"{field}.shift_end_s")
    costs = (
        vehicle_type.fixed_cost,
        vehicle_type.cost_per_km,
        vehicle_type.cost_per_hour,
        vehicle_type.co2_g_per_km,
        vehicle_type.energy_kwh_per_km,
    )
    if not all(math.isfinite(c) and c >= 0 for c in costs):
        raise InvalidProblem("costs and emission factors must be non-negative", field)
    if vehicle_type.max_distance_m is not None and vehicle_type.max_distance_m <= 0:
        raise InvalidProblem("range must be positive", f"{field}.max_distance_m")
    if vehicle_type.max_payload_kg is not None and vehicle_type.max_payload_kg < 0:
        raise InvalidProblem("payload limit cannot be negative", f"{field}.max_payload_kg")
    total_break = sum(b.duration_s for b in vehicle_type.breaks)
    if total_break > vehicle_type.shift_end_s - vehicle_type.shift_start_s:
        raise InvalidProblem("breaks are longer than the shift", f"{field}.breaks")
    for k, brk in enumerate(vehicle_type.breaks):
        _check_break(brk, vehicle_type, f"{field}.breaks[{k}]")

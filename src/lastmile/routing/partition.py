"""Split a large problem geographically: orders to depots, depots' orders into sectors."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from lastmile.routing.feasibility import static_obstacle
from lastmile.routing.geo import Coordinate, as_arrays, haversine_m
from lastmile.routing.problem import Job, Problem
from lastmile.routing.stops import Stop


def allocate_counts(total: int, weights: Sequence[float]) -> list[int]:
    """
    Split ``total`` items proportionally to ``weights`` (largest-remainder method).

    Ties go to the earlier weight, so the split is deterministic.
    """
    if total <= 0 or not weights:
        return [0] * len(weights)
    weight_sum = sum(weights)
    if weight_sum <= 0:
        weights = [1.0] * len(weights)
        weight_sum = float(len(weights))
    exact = [total * w / weight_sum for w in weights]
    counts = [math.floor(e) for e in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def serving_depots(problem: Problem, job: Job) -> set[str]:
    """Depots with a vehicle type that could carry ``job`` (skills, payload, capacity)."""
    stop = Stop((job,))
    return {
        vt.depot_id
        for vt in problem.vehicle_types
        if vt.count and static_obstacle(stop, vt) is None
    }


def assign_depots(problem: Problem, trips_per_reloading_vehicle: float) -> dict[str, str]:
    """
    Home depot of every order: the nearest one with a suitable vehicle and room left.

    Orders are placed in order of regret (how much further their second-nearest depot is),
    so those with one obviously right depot are placed before that depot fills up. A depot's
    room is the parcel capacity of the vehicles starting there; a vehicle that may reload
    counts ``trips_per_reloading_vehicle`` times. An order no depot can serve goes to the
    nearest, to be reported unassigned there.
    """
    room: dict[str, float] = {}
    for vt in problem.vehicle_types:
        trips = trips_per_reloading_vehicle if vt.reload_depot_ids else 1.0
        room[vt.depot_id] = room.get(vt.depot_id, 0.0) + vt.count * vt.capacity.parcels * trips
    depots = [d for d in problem.depots if room.get(d.id, 0.0) > 0]
    if not depots or not problem.jobs:
        return {}
    jlat, jlon = as_arrays([j.location for j in problem.jobs])
    dlat, dlon = as_arrays([d.location for d in depots])
    distance = haversine_m(jlat[:, None], jlon[:, None], dlat[None, :], dlon[None, :])
    ranked = np.argsort(distance, axis=1, kind="stable")
    nearest = distance[np.arange(len(problem.jobs)), ranked[:, 0]]
    second = distance[np.arange(len(problem.jobs)), ranked[:, min(1, len(depots) - 1)]]
    home: dict[str, str] = {}
    for j in np.argsort(-(second - nearest), kind="stable"):
        job = problem.jobs[int(j)]
        suitable = serving_depots(problem, job)
        candidates = [depots[int(d)] for d in ranked[j] if depots[int(d)].id in suitable]
        chosen = next((d for d in candidates if room[d.id] >= job.load.parcels), None)
        if chosen is None:
            chosen = candidates[-1] if candidates else depots[int(ranked[j][0])]
        room[chosen.id] -= job.load.parcels
        home[job.id] = chosen.id
    return home


def sweep_sectors(
    center: Coordinate, jobs: Sequence[Job], sectors: int, rotation: float = 0.0
) -> list[list[Job]]:
    """
    Cut ``jobs`` into ``sectors`` angular sectors around ``center`` of equal order counts.

    Routes leave a depot like petals, so sectors keep each route's orders together.
    ``rotation`` (a fraction of one sector) shifts the cuts, which is how a second pass puts
    the first pass's boundaries in the middle of a sector.
    """
    if not jobs:
        return []
    sectors = max(1, min(sectors, len(jobs)))
    lat, lon = as_arrays([j.location for j in jobs])
    angle = np.arctan2(lat - center.lat, (lon - center.lon) * math.cos(math.radians(center.lat)))
    order = np.argsort(angle, kind="stable")
    size = len(jobs) / sectors
    shift = round(rotation * size) % len(jobs)
    order = np.roll(order, -shift)
    return [
        [jobs[int(i)] for i in order[round(k * size) : round((k + 1) * size)]]
        for k in range(sectors)
    ]


def jobs_by_depot(problem: Problem, home: Mapping[str, str]) -> dict[str, list[Job]]:
    """Orders grouped by home depot, in problem order."""
    grouped: dict[str, list[Job]] = {}
    for job in problem.jobs:
        if job.id in home:
            grouped.setdefault(home[job.id], []).append(job)
    return grouped

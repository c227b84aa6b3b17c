"""Travel matrices over a problem's depots and orders, one pair per routing profile."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lastmile.routing.geo import Coordinate
from lastmile.routing.problem import Problem
from lastmile.routing.profiles import RoutingProfile
from lastmile.routing.travel import TravelMatrices, TravelModel

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, slots=True)
class ProblemMatrices:
    """
    Matrices over the distinct places of a problem.

    ``points`` lists each distinct coordinate once (depots first, then orders);
    ``depot_point`` and ``job_point`` map identifiers to rows of every matrix in
    ``by_profile``.
    """

    points: tuple[Coordinate, ...]
    depot_point: Mapping[str, int]
    job_point: Mapping[str, int]
    by_profile: Mapping[RoutingProfile, TravelMatrices]

    def __getitem__(self, profile: RoutingProfile) -> TravelMatrices:
        return self.by_profile[profile]


def index_points(problem: Problem) -> tuple[list[Coordinate], dict[str, int], dict[str, int]]:
    """Distinct coordinates of ``problem`` and the row of each depot and order."""
    row: dict[Coordinate, int] = {}

    def place(point: Coordinate) -> int:
        return row.setdefault(point, len(row))

    depot_point: dict[str, int] = {}
    for depot in problem.depots:
        depot_point[depot.id] = place(depot.location)
    job_point: dict[str, int] = {}
    for job in problem.jobs:
        job_point[job.id] = place(job.location)
    return list(row), depot_point, job_point


def departure_time_of_day(problem: Problem, profile: RoutingProfile) -> int:
    """Local time of day of the earliest shift start among vehicles using ``profile``."""
    starts = [vt.shift_start_s for vt in problem.vehicle_types if vt.profile == profile]
    return (problem.time_of_day_at_epoch_s + min(starts, default=0)) % SECONDS_PER_DAY


def build_matrices(problem: Problem, travel_model: TravelModel) -> ProblemMatrices:
    """
    Ask ``travel_model`` for the matrices of every profile the fleet uses.

    Each profile's matrix is computed for the earliest shift start of its vehicles: the
    solver needs static travel times, and the start of the day is when plans go out.
    """
    points, depot_point, job_point = index_points(problem)
    profiles = sorted({vt.profile for vt in problem.vehicle_types if vt.count > 0})
    by_profile = {
        profile: travel_model.matrices(points, profile, departure_time_of_day(problem, profile))
        for profile in profiles
    }
    return ProblemMatrices(
        points=tuple(points), depot_point=depot_point, job_point=job_point, by_profile=by_profile
    )

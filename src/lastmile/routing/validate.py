"""Re-check a plan against every constraint, independently of how it was produced."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from lastmile.routing.emissions import route_co2_g, route_cost
from lastmile.routing.matrices import ProblemMatrices
from lastmile.routing.plan import Plan, PlannedBreak, PlannedRoute, PlannedVisit, VisitKind
from lastmile.routing.problem import Job, Load, Problem, VehicleType


class ViolationKind(StrEnum):
    """The constraint a violation breaks."""

    MISSING_JOB = "missing_job"
    DUPLICATE_JOB = "duplicate_job"
    UNKNOWN_JOB = "unknown_job"
    VEHICLE = "vehicle"
    DEPOT = "depot"
    MERGE = "merge"
    WINDOW = "window"
    RELEASE = "release"
    CAPACITY = "capacity"
    PAYLOAD = "payload"
    SKILL = "skill"
    RANGE = "range"
    SHIFT = "shift"
    BREAK = "break"
    TIMING = "timing"
    REPORTED = "reported"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken constraint; ``route`` indexes ``plan.routes`` when it is route-specific."""

    kind: ViolationKind
    message: str
    route: int | None = None
    job_id: str | None = None


def validate_plan(problem: Problem, matrices: ProblemMatrices, plan: Plan) -> list[Violation]:
    """
    Every way in which ``plan`` breaks a constraint of ``problem``; empty when it is valid.

    Checks that each order is planned at most once or reported unassigned, vehicles and
    depots exist and match, merged stops are consistent, windows, release times, capacity
    per dimension and trip, payload, skills, range, shifts and breaks are honoured, times
    follow the travel matrices, and reported distances, durations, costs and CO2 add up.

    Parameters
    ----------
    problem
        The problem the plan claims to solve.
    matrices
        The travel matrices it was planned with.
    plan
        The plan to check.
    """
    violations = _check_assignment(problem, plan)
    vehicle_types = {vt.id: vt for vt in problem.vehicle_types}
    used = Counter((r.vehicle_type_id, r.vehicle_index) for r in plan.routes)
    for r, route in enumerate(plan.routes):
        vehicle_type = vehicle_types.get(route.vehicle_type_id)
        if vehicle_type is None:
            violations.append(Violation(ViolationKind.VEHICLE, "unknown vehicle type", r))
            continue
        if not 0 <= route.vehicle_index < vehicle_type.count:
            violations.append(Violation(ViolationKind.VEHICLE, "vehicle index out of range", r))
        if used[(route.vehicle_type_id, route.vehicle_index)] > 1:
            violations.append(Violation(ViolationKind.VEHICLE, "vehicle used twice", r))
        violations.extend(_RouteCheck(problem, matrices, vehicle_type, route, r).run())
    totals = (
        (plan.distance_m, sum(r.distance_m for r in plan.routes), "distance"),
        (plan.duration_s, sum(r.end_s - r.start_s for r in plan.routes), "duration"),
        (plan.cost, sum(r.cost for r in plan.routes), "cost"),
        (plan.co2_g, sum(r.co2_g for r in plan.routes), "CO2"),
    )
    for reported, actual, name in totals:
        if not math.isclose(reported, actual, rel_tol=1e-9, abs_tol=1e-6):
            violations.append(Violation(ViolationKind.REPORTED, f"plan {name} does not add up"))
    return violations


def _check_assignment(problem: Problem, plan: Plan) -> list[Violation]:
    known = {j.id for j in problem.jobs}
    seen = Counter(j for route in plan.routes for j in route.job_ids)
    seen.update(u.job_id for u in plan.unassigned)
    violations = [
        Violation(ViolationKind.UNKNOWN_JOB, "order not in the problem", job_id=j)
        for j in seen
        if j not in known
    ]
    violations.extend(
        Violation(ViolationKind.DUPLICATE_JOB, f"order appears {n} times", job_id=j)
        for j, n in seen.items()
        if n > 1
    )
    violations.extend(
        Violation(ViolationKind.MISSING_JOB, "order neither planned nor unassigned", job_id=j)
        for j in sorted(known - set(seen))
    )
    return violations


class _RouteCheck:
    def __init__(
        self,
        problem: Problem,
        matrices: ProblemMatrices,
        vehicle_type: VehicleType,
        route: PlannedRoute,
        index: int,
    ) -> None:
        self.problem = problem
        self.matrices = matrices
        self.vt = vehicle_type
        self.route = route
        self.index = index
        self.jobs = {j.id: j for j in problem.jobs}
        self.found: list[Violation] = []

    def fail(self, kind: ViolationKind, message: str, job_id: str | None = None) -> None:
        self.found.append(Violation(kind, message, self.index, job_id))

    def run(self) -> list[Violation]:
        route, vt = self.route, self.vt
        if route.start_depot_id != vt.depot_id or route.end_depot_id != vt.return_depot_id:
            self.fail(ViolationKind.DEPOT, "route does not start and end at its vehicle's depots")
        if route.profile != vt.profile:
            self.fail(ViolationKind.VEHICLE, "route uses another routing profile")
        if not route.visits:
            self.fail(ViolationKind.VEHICLE, "route has no visits")
        if any(j not in self.jobs for j in route.job_ids):
            return self.found  # already reported; nothing sensible can be checked
        self._check_visits()
        self._check_times()
        self._check_breaks()
        self._check_loads()
        self._check_totals()
        return self.found

    def visit_jobs(self, visit: PlannedVisit) -> list[Job]:
        return [self.jobs[j] for j in visit.job_ids]

    def point(self, visit: PlannedVisit) -> int:
        if visit.kind is VisitKind.RELOAD:
            return self.matrices.depot_point[visit.depot_id or ""]
        return self.matrices.job_point[visit.job_ids[0]]

    def _check_visits(self) -> None:
        for visit in self.route.visits:
            if visit.kind is VisitKind.RELOAD:
                if visit.job_ids or visit.depot_id not in self.vt.reload_depot_ids:
                    self.fail(ViolationKind.DEPOT, "reload at a depot the vehicle may not use")
                continue
            jobs = self.visit_jobs(visit)
            if not jobs:
                self.fail(ViolationKind.MERGE, "stop without orders")
                continue
            if len(jobs) > 1 and (
                jobs[0].stop_key is None
                or any(j.stop_key != jobs[0].stop_key or j.windows != jobs[0].windows for j in jobs)
            ):
                self.fail(ViolationKind.MERGE, "merged orders differ in stop key or windows")
            if visit.location != jobs[0].location:
                self.fail(ViolationKind.MERGE, "stop is not where its orders are")
            for job in jobs:
                if not job.skills <= self.vt.skills:
                    self.fail(ViolationKind.SKILL, "driver lacks a required skill", job.id)
            kg = sum(j.load.kg for j in jobs)
            if self.vt.max_payload_kg is not None and kg > self.vt.max_payload_kg + 1e-6:
                self.fail(ViolationKind.PAYLOAD, "stop heavier than the payload limit")

    def _check_times(self) -> None:
        route, vt = self.route, self.vt
        travel = self.matrices[vt.profile]
        if route.start_s < vt.shift_start_s:
            self.fail(ViolationKind.SHIFT, "route starts before the shift")
        if route.end_s > vt.shift_end_s:
            self.fail(ViolationKind.SHIFT, "route ends after the shift")
        breaks_at: dict[int, list[PlannedBreak]] = {k: [] for k in range(len(route.visits) + 1)}
        for brk in sorted(route.breaks, key=lambda b: b.start_s):
            breaks_at.setdefault(brk.after_visit, []).append(brk)
        if any(not 0 <= b.after_visit <= len(route.visits) for b in route.breaks):
            self.fail(ViolationKind.BREAK, "break placed outside the route")
        previous = self.matrices.depot_point[vt.depot_id]
        free_at = route.start_s
        trip_start = route.start_s
        for k, visit in enumerate(route.visits):
            free_at = self._after_breaks(breaks_at[k], free_at)
            here = self.point(visit)
            if visit.distance_from_previous_m != travel.distance_m[previous, here] or (
                visit.travel_from_previous_s != travel.duration_s[previous, here]
            ):
                self.fail(ViolationKind.REPORTED, "leg differs from the travel matrices")
            if visit.arrival_s < free_at + travel.duration_s[previous, here]:
                self.fail(ViolationKind.TIMING, "arrives faster than travel allows")
            if visit.service_start_s < visit.arrival_s:
                self.fail(ViolationKind.TIMING, "service starts before arrival")
            if visit.waiting_s != visit.service_start_s - visit.arrival_s or visit.slack_s < 0:
                self.fail(ViolationKind.REPORTED, "waiting or slack misreported")
            if visit.kind is VisitKind.RELOAD:
                if visit.departure_s < visit.service_start_s:
                    self.fail(ViolationKind.TIMING, "leaves a reload before arriving")
                trip_start = visit.departure_s
            else:
                self._check_stop_time(visit, trip_start)
            previous, free_at = here, visit.departure_s
        free_at = self._after_breaks(breaks_at[len(route.visits)], free_at)
        end = self.matrices.depot_point[vt.return_depot_id]
        if (route.return_distance_m, route.return_travel_s) != (
            travel.distance_m[previous, end],
            travel.duration_s[previous, end],
        ):
            self.fail(ViolationKind.REPORTED, "return leg differs from the travel matrices")
        if route.end_s < free_at + travel.duration_s[previous, end]:
            self.fail(ViolationKind.TIMING, "returns faster than travel allows")

    def _after_breaks(self, breaks: list[PlannedBreak], free_at: int) -> int:
        for brk in breaks:
            if brk.start_s < free_at:
                self.fail(ViolationKind.BREAK, "break overlaps driving or service")
            free_at = max(free_at, brk.end_s)
        return free_at

    def _check_stop_time(self, visit: PlannedVisit, trip_start: int) -> None:
        jobs = self.visit_jobs(visit)
        service = max(j.setup_s for j in jobs) + sum(j.service_s for j in jobs)
        if visit.departure_s != visit.service_start_s + service:
            self.fail(ViolationKind.TIMING, "service time differs from the orders'")
        for job in jobs:
            if job.windows:
                window = visit.window
                if (
                    window not in job.windows
                    or window is None
                    or not (window.start_s <= visit.service_start_s <= window.end_s)
                ):
                    self.fail(ViolationKind.WINDOW, "service outside the order's windows", job.id)
            if trip_start < job.release_s:
                self.fail(
                    ViolationKind.RELEASE, "left the depot before the order was ready", job.id
                )

    def _check_breaks(self) -> None:
        available = sorted(self.route.breaks, key=lambda b: b.start_s)
        for brk in sorted(self.vt.breaks, key=lambda b: b.earliest_start_s):
            if self.route.end_s <= brk.earliest_start_s:
                continue
            match = next(
                (
                    b for b in available
                    if brk.earliest_start_s <= b.start_s <= brk.latest_start_s
                    and b.end_s - b.start_s >= brk.duration_s
                ),
                None,
            )  # fmt: skip
            if match is None:
                self.fail(ViolationKind.BREAK, "required break missing or outside its window")
            else:
                available.remove(match)

    def _check_loads(self) -> None:
        trips: list[list[Job]] = [[]]
        for visit in self.route.visits:
            if visit.kind is VisitKind.RELOAD:
                trips.append([])
            else:
                trips[-1].extend(self.visit_jobs(visit))
        for trip in trips:
            load = Load()
            for job in trip:
                load = load + job.load
            for dimension in load.exceeded_dimensions(self.vt.capacity):
                self.fail(ViolationKind.CAPACITY, f"trip exceeds the {dimension} capacity")
        start = Load()
        for job in trips[0]:
            start = start + job.load
        if self.route.load_at_start.exceeded_dimensions(start) or start.exceeded_dimensions(
            self.route.load_at_start
        ):
            self.fail(ViolationKind.REPORTED, "load at start misreported")
        if self.vt.max_distance_m is not None and self.route.distance_m > self.vt.max_distance_m:
            self.fail(ViolationKind.RANGE, "route longer than the vehicle's range")

    def _check_totals(self) -> None:
        route = self.route
        legs = sum(v.distance_from_previous_m for v in route.visits) + route.return_distance_m
        if route.distance_m != legs:
            self.fail(ViolationKind.REPORTED, "route distance does not add up")
        driving = sum(v.travel_from_previous_s for v in route.visits) + route.return_travel_s
        breaks = sum(b.end_s - b.start_s for b in route.breaks)
        service = sum(v.departure_s - v.service_start_s for v in route.visits if v.job_ids)
        duration = route.end_s - route.start_s
        if (route.driving_s, route.break_s, route.service_s) != (driving, breaks, service) or (
            route.driving_s + route.service_s + route.waiting_s + route.break_s != duration
        ):
            self.fail(ViolationKind.REPORTED, "route durations do not add up")
        if not math.isclose(route.cost, route_cost(self.vt, route.distance_m, duration)):
            self.fail(ViolationKind.REPORTED, "route cost misreported")
        co2 = route_co2_g(self.vt, route.distance_m, self.problem.grid_co2_g_per_kwh)
        if not math.isclose(route.co2_g, co2, abs_tol=1e-9):
            self.fail(ViolationKind.REPORTED, "route CO2 misreported")

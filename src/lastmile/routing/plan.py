"""Output dataclasses of a plan; times are seconds from the plan's epoch."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lastmile.routing.geo import Coordinate
from lastmile.routing.problem import Load, Problem, TimeWindow
from lastmile.routing.profiles import RoutingProfile


class UnassignedReason(StrEnum):
    """Why an order is not in the plan."""

    SKILL = "skill"
    """No vehicle's driver has the qualifications the order requires."""
    PAYLOAD = "payload"
    """Heavier than the payload limit of every vehicle that could otherwise take it."""
    CAPACITY = "capacity"
    """Larger than the capacity of every vehicle that could otherwise take it."""
    RANGE = "range"
    """Out of range of every vehicle that could otherwise take it."""
    WINDOW = "window"
    """No vehicle can be there within any of its windows."""
    SHIFT = "shift"
    """No vehicle can deliver it and return within its shift (after the order's release)."""
    FLEET = "fleet"
    """Feasible on its own, but the fleet ran out of room or time; lower priorities go first."""


@dataclass(frozen=True, slots=True)
class UnassignedJob:
    """An order left out of the plan, and why."""

    job_id: str
    reason: UnassignedReason
    detail: str


class VisitKind(StrEnum):
    """What happens at a visit."""

    STOP = "stop"
    """Orders are handed over."""
    RELOAD = "reload"
    """The vehicle returns to a depot or hub to load its next trip."""


@dataclass(frozen=True, slots=True)
class PlannedVisit:
    """
    One visit of a route.

    ``slack_s`` is how much later service could start without breaking any later window,
    break or the shift end; ``load_after`` is what is on board when the vehicle leaves.
    """

    kind: VisitKind
    job_ids: tuple[str, ...]
    depot_id: str | None
    location: Coordinate
    arrival_s: int
    service_start_s: int
    departure_s: int
    waiting_s: int
    slack_s: int
    window: TimeWindow | None
    load_after: Load
    distance_from_previous_m: int
    travel_from_previous_s: int


@dataclass(frozen=True, slots=True)
class PlannedBreak:
    """A driver break taken after ``after_visit`` visits (0: before the first visit)."""

    start_s: int
    end_s: int
    after_visit: int


@dataclass(frozen=True, slots=True)
class PlannedRoute:
    """
    The day of one vehicle: leave the start depot, visit, return.

    Durations split into ``driving_s + service_s + waiting_s + break_s == end_s - start_s``.
    ``geometry`` is a GeoJSON LineString along the road network when the travel model
    provides paths, straight segments otherwise.
    """

    vehicle_type_id: str
    vehicle_index: int
    profile: RoutingProfile
    start_depot_id: str
    end_depot_id: str
    start_s: int
    end_s: int
    load_at_start: Load
    visits: tuple[PlannedVisit, ...]
    breaks: tuple[PlannedBreak, ...]
    return_distance_m: int
    return_travel_s: int
    distance_m: int
    driving_s: int
    service_s: int
    waiting_s: int
    break_s: int
    cost: float
    co2_g: float
    geometry: dict[str, Any]

    @property
    def job_ids(self) -> tuple[str, ...]:
        """Every order delivered on this route, in visiting order."""
        return tuple(j for visit in self.visits for j in visit.job_ids)


@dataclass(frozen=True, slots=True)
class SearchStats:
    """How the plan was found."""

    seed: int
    workers: int
    iterations: int
    runtime_s: float
    objective: int


@dataclass(frozen=True, slots=True)
class Plan:
    """Routes, the orders left out, and totals."""

    routes: tuple[PlannedRoute, ...]
    unassigned: tuple[UnassignedJob, ...]
    cost: float
    distance_m: int
    duration_s: int
    co2_g: float
    stats: SearchStats

    @classmethod
    def of(
        cls,
        problem: Problem,
        routes: Sequence[PlannedRoute],
        unassigned: Iterable[UnassignedJob],
        stats: SearchStats,
    ) -> Plan:
        """A plan with totals summed over ``routes`` and leftovers in the problem's job order."""
        order = {job.id: i for i, job in enumerate(problem.jobs)}
        return cls(
            routes=tuple(routes),
            unassigned=tuple(sorted(unassigned, key=lambda u: order[u.job_id])),
            cost=sum(r.cost for r in routes),
            distance_m=sum(r.distance_m for r in routes),
            duration_s=sum(r.end_s - r.start_s for r in routes),
            co2_g=sum(r.co2_g for r in routes),
            stats=stats,
        )

    @property
    def assigned_job_ids(self) -> frozenset[str]:
        """Identifiers of all planned orders."""
        return frozenset(j for route in self.routes for j in route.job_ids)


@dataclass(frozen=True, slots=True)
class Progress:
    """A progress report of a running search."""

    elapsed_s: float
    time_limit_s: float
    best_objective: int
    feasible: bool

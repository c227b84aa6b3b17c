"""Turn a visiting sequence into a fully timed, costed and drawn route."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from lastmile.routing.emissions import route_co2_g, route_cost
from lastmile.routing.geo import Coordinate
from lastmile.routing.geojson import line_string
from lastmile.routing.matrices import ProblemMatrices
from lastmile.routing.plan import PlannedRoute, PlannedVisit, UnassignedReason, VisitKind
from lastmile.routing.problem import Load, Problem, TimeWindow, VehicleType
from lastmile.routing.schedule import (
    RouteFrame,
    ScheduleNode,
    Timeline,
    latest_service_starts,
    schedule_with_breaks,
)
from lastmile.routing.stops import Stop
from lastmile.routing.travel import TravelModel


@dataclass(frozen=True, slots=True)
class DraftVisit:
    """A stop served in one of its windows, or (``stop is None``) a reload at a depot."""

    stop: Stop | None
    window: TimeWindow | None = None
    depot_id: str | None = None


@dataclass(frozen=True, slots=True)
class DroppedStop:
    """A stop taken out of a route while making its schedule work."""

    stop: Stop
    reason: UnassignedReason
    detail: str


def _tidy(visits: Sequence[DraftVisit]) -> list[DraftVisit]:
    """Drop reloads that no longer separate two non-empty trips."""
    tidy: list[DraftVisit] = []
    for visit in visits:
        if visit.stop is None and (not tidy or tidy[-1].stop is None):
            continue
        tidy.append(visit)
    while tidy and tidy[-1].stop is None:
        tidy.pop()
    return tidy


def _trips(visits: Sequence[DraftVisit]) -> list[list[Stop]]:
    trips: list[list[Stop]] = [[]]
    for visit in visits:
        if visit.stop is None:
            trips.append([])
        else:
            trips[-1].append(visit.stop)
    return trips


def _total(stops: Sequence[Stop]) -> Load:
    load = Load()
    for stop in stops:
        load = load + stop.load
    return load


class RouteBuilder:
    """
    Schedules, repairs and assembles routes of one problem.

    Parameters
    ----------
    problem
        The problem being planned.
    matrices
        Its travel matrices.
    geometry
        Travel model to draw routes along the network with; None draws straight lines.
    """

    def __init__(
        self, problem: Problem, matrices: ProblemMatrices, geometry: TravelModel | None
    ) -> None:
        self._problem = problem
        self._matrices = matrices
        self._geometry = geometry

    def _point(self, visit: DraftVisit) -> int:
        if visit.stop is None:
            assert visit.depot_id is not None
            return self._matrices.depot_point[visit.depot_id]
        return self._matrices.job_point[visit.stop.jobs[0].id]

    def _nodes(self, visits: Sequence[DraftVisit]) -> list[ScheduleNode]:
        trips = _trips(visits)
        nodes = []
        trip = 0
        for visit in visits:
            if visit.stop is None:
                trip += 1
                ready = max((s.release_s for s in trips[trip]), default=0)
                nodes.append(ScheduleNode(self._point(visit), 0, None, ready))
            else:
                nodes.append(ScheduleNode(self._point(visit), visit.stop.service_s, visit.window))
        return nodes

    def _schedule(
        self, vehicle_type: VehicleType, visits: Sequence[DraftVisit], start_s: int
    ) -> tuple[RouteFrame, list[ScheduleNode], Timeline]:
        frame = RouteFrame(
            start_point=self._matrices.depot_point[vehicle_type.depot_id],
            end_point=self._matrices.depot_point[vehicle_type.return_depot_id],
            shift_start_s=vehicle_type.shift_start_s,
            shift_end_s=vehicle_type.shift_end_s,
            duration_s=self._matrices[vehicle_type.profile].duration_s,
        )
        nodes = self._nodes(visits)
        ready = max((s.release_s for s in _trips(visits)[0]), default=0)
        timeline = None
        # The solver's departure avoids needless waiting; leaving at shift start instead
        # sometimes makes room for a break.
        for start in (max(start_s, ready), max(vehicle_type.shift_start_s, ready)):
            timeline = schedule_with_breaks(frame, nodes, start, vehicle_type.breaks)
            if timeline.feasible_within and timeline.end_s <= vehicle_type.shift_end_s:
                break
        assert timeline is not None
        return frame, nodes, timeline

    def _distance(self, vehicle_type: VehicleType, visits: Sequence[DraftVisit]) -> int:
        travel = self._matrices[vehicle_type.profile].distance_m
        points = [
            self._matrices.depot_point[vehicle_type.depot_id],
            *(self._point(v) for v in visits),
            self._matrices.depot_point[vehicle_type.return_depot_id],
        ]
        return int(sum(travel[a, b] for a, b in itertools.pairwise(points)))

    def _problem_visit(
        self, vehicle_type: VehicleType, visits: list[DraftVisit]
    ) -> tuple[int, UnassignedReason, str] | None:
        """The visit to drop to make the route feasible, with why; None if it already is."""
        position = 0
        for trip in _trips(visits):
            position += len(trip)
            if not _total(trip).fits_in(vehicle_type.capacity):
                return position - 1, UnassignedReason.FLEET, "trip over capacity"
            position += 1
        if vehicle_type.max_distance_m is not None and (
            self._distance(vehicle_type, visits) > vehicle_type.max_distance_m
        ):
            last = max(i for i, v in enumerate(visits) if v.stop is not None)
            return last, UnassignedReason.RANGE, "route exceeds the vehicle's range"
        return None

    def build(
        self,
        vehicle_type_index: int,
        vehicle_index: int,
        visits: Sequence[DraftVisit],
        start_s: int,
    ) -> tuple[PlannedRoute | None, list[DroppedStop]]:
        """
        Time, repair and assemble one route.

        Visits that cannot be kept (a window lost to a break, or an infeasible solver
        route) are dropped one at a time, latest problem first, and returned with a reason.

        Returns
        -------
        tuple
            The route (None when every stop was dropped) and the dropped stops.
        """
        vehicle_type = self._problem.vehicle_types[vehicle_type_index]
        dropped: list[DroppedStop] = []
        current = _tidy(visits)
        while current:
            issue = self._problem_visit(vehicle_type, current)
            if issue is None:
                frame, nodes, timeline = self._schedule(vehicle_type, current, start_s)
                if timeline.feasible_within and timeline.end_s <= vehicle_type.shift_end_s:
                    route = self._assemble(
                        vehicle_type, vehicle_index, current, frame, nodes, timeline
                    )
                    return route, dropped
                late = [k for k in timeline.late if current[k].stop is not None]
                last = max(i for i, v in enumerate(current) if v.stop is not None)
                detail = (
                    "conflicts with the driver's break"
                    if vehicle_type.breaks
                    else "no feasible time in this route"
                )
                issue = (late[0] if late else last, UnassignedReason.WINDOW, detail)
            index, reason, detail = issue
            stop = current[index].stop
            assert stop is not None
            dropped.append(DroppedStop(stop, reason, detail))
            current = _tidy([v for i, v in enumerate(current) if i != index])
        return None, dropped

    def _assemble(
        self,
        vehicle_type: VehicleType,
        vehicle_index: int,
        visits: Sequence[DraftVisit],
        frame: RouteFrame,
        nodes: Sequence[ScheduleNode],
        timeline: Timeline,
    ) -> PlannedRoute:
        travel = self._matrices[vehicle_type.profile]
        latest = latest_service_starts(frame, nodes, timeline)
        trips = _trips(visits)
        on_board = _total(trips[0])
        trip = 0
        planned: list[PlannedVisit] = []
        previous = frame.start_point
        for k, (visit, node) in enumerate(zip(visits, nodes, strict=True)):
            if visit.stop is None:
                trip += 1
                on_board = _total(trips[trip])
            else:
                on_board = Load(
                    on_board.parcels - visit.stop.load.parcels,
                    max(0.0, on_board.kg - visit.stop.load.kg),
                    max(0.0, on_board.litres - visit.stop.load.litres),
                )
            planned.append(
                PlannedVisit(
                    kind=VisitKind.STOP if visit.stop else VisitKind.RELOAD,
                    job_ids=visit.stop.job_ids if visit.stop else (),
                    depot_id=visit.depot_id,
                    location=self._matrices.points[node.point],
                    arrival_s=timeline.arrival_s[k],
                    service_start_s=timeline.service_start_s[k],
                    departure_s=timeline.departure_s[k],
                    waiting_s=timeline.service_start_s[k] - timeline.arrival_s[k],
                    slack_s=max(0, latest[k] - timeline.service_start_s[k]),
                    window=visit.window,
                    load_after=on_board,
                    distance_from_previous_m=int(travel.distance_m[previous, node.point]),
                    travel_from_previous_s=int(travel.duration_s[previous, node.point]),
                )
            )
            previous = node.point
        return_m = int(travel.distance_m[previous, frame.end_point])
        return_s = int(travel.duration_s[previous, frame.end_point])
        distance = sum(v.distance_from_previous_m for v in planned) + return_m
        driving = sum(v.travel_from_previous_s for v in planned) + return_s
        service = sum(n.service_s for n in nodes)
        breaks = sum(b.end_s - b.start_s for b in timeline.breaks)
        duration = timeline.end_s - timeline.start_s
        line = [self._matrices.points[frame.start_point]]
        line.extend(v.location for v in planned)
        line.append(self._matrices.points[frame.end_point])
        return PlannedRoute(
            vehicle_type_id=vehicle_type.id,
            vehicle_index=vehicle_index,
            profile=vehicle_type.profile,
            start_depot_id=vehicle_type.depot_id,
            end_depot_id=vehicle_type.return_depot_id,
            start_s=timeline.start_s,
            end_s=timeline.end_s,
            load_at_start=_total(trips[0]),
            visits=tuple(planned),
            breaks=timeline.breaks,
            return_distance_m=return_m,
            return_travel_s=return_s,
            distance_m=distance,
            driving_s=driving,
            service_s=service,
            waiting_s=duration - driving - service - breaks,
            break_s=breaks,
            cost=route_cost(vehicle_type, distance, duration),
            co2_g=route_co2_g(vehicle_type, distance, self._problem.grid_co2_g_per_kwh),
            geometry=line_string(self._draw(vehicle_type, line)),
        )

    def _draw(self, vehicle_type: VehicleType, line: list[Coordinate]) -> list[Coordinate]:
        if self._geometry is None:
            return line
        return self._geometry.path(line, vehicle_type.profile)

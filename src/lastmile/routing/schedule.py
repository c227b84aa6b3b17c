"""Timing of a route: arrivals, waiting, slack, and where the driver's breaks go."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lastmile.routing.plan import PlannedBreak
from lastmile.routing.problem import Break, TimeWindow


@dataclass(frozen=True, slots=True)
class ScheduleNode:
    """A visit as scheduling sees it: where, how long, when, and when the next leg may start."""

    point: int
    service_s: int
    window: TimeWindow | None
    ready_s: int = 0
    """Earliest departure from here: the release of the trip that starts at a reload."""


@dataclass(frozen=True, slots=True)
class RouteFrame:
    """The fixed frame of a route: depots, shift and travel times."""

    start_point: int
    end_point: int
    shift_start_s: int
    shift_end_s: int
    duration_s: NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Timeline:
    """A computed schedule; ``late`` lists visits whose service starts after their window."""

    start_s: int
    end_s: int
    arrival_s: tuple[int, ...]
    service_start_s: tuple[int, ...]
    departure_s: tuple[int, ...]
    breaks: tuple[PlannedBreak, ...]
    placements: tuple[tuple[int, Break], ...]
    late: tuple[int, ...]
    break_late: bool

    @property
    def feasible_within(self) -> bool:
        """Whether every window and break is met (the shift end is checked by the caller)."""
        return not self.late and not self.break_late


def simulate(
    frame: RouteFrame,
    nodes: Sequence[ScheduleNode],
    start_s: int,
    breaks: Sequence[tuple[int, Break]] = (),
) -> Timeline:
    """
    Schedule ``nodes`` leaving the start depot at ``start_s``, as early as possible.

    Parameters
    ----------
    frame
        Depots, shift and travel times.
    nodes
        Visits in order.
    start_s
        Planned departure; moved later if the first trip's orders are not ready.
    breaks
        ``(after_visit, break)`` pairs: the break starts once ``after_visit`` visits are done
        (0: before the first leg), but not before its earliest start.
    """
    duration = frame.duration_s
    at = max(start_s, frame.shift_start_s)
    arrivals: list[int] = []
    starts: list[int] = []
    departures: list[int] = []
    planned: list[PlannedBreak] = []
    late: list[int] = []
    break_late = False
    position = frame.start_point
    pending = sorted(breaks, key=lambda item: (item[0], item[1].earliest_start_s))
    start = at
    for k in range(len(nodes) + 1):
        for after, brk in pending:
            if after == k:
                begin = max(at, brk.earliest_start_s)
                break_late |= begin > brk.latest_start_s
                planned.append(PlannedBreak(begin, begin + brk.duration_s, after))
                at = begin + brk.duration_s
        if k == len(nodes):
            break
        node = nodes[k]
        arrival = at + int(duration[position, node.point])
        service = max(arrival, node.window.start_s) if node.window else arrival
        if node.window and service > node.window.end_s:
            late.append(k)
        arrivals.append(arrival)
        starts.append(service)
        at = max(service + node.service_s, node.ready_s)
        departures.append(at)
        position = node.point
    end = at + int(duration[position, frame.end_point])
    return Timeline(
        start_s=start,
        end_s=end,
        arrival_s=tuple(arrivals),
        service_start_s=tuple(starts),
        departure_s=tuple(departures),
        breaks=tuple(planned),
        placements=tuple(pending),
        late=tuple(late),
        break_late=break_late,
    )


def schedule_with_breaks(
    frame: RouteFrame, nodes: Sequence[ScheduleNode], start_s: int, breaks: Sequence[Break]
) -> Timeline:
    """
    Earliest schedule with every needed break placed where it delays the route least.

    Breaks are placed one at a time, in order of earliest start, at the position that keeps
    every window and ends the route soonest (ties: the earlier position). A break a driver
    can spend waiting for a window costs nothing. If no position works the returned
    timeline is infeasible and the caller drops visits.
    """
    placed: list[tuple[int, Break]] = []
    timeline = simulate(frame, nodes, start_s)
    for brk in sorted(breaks, key=lambda b: b.earliest_start_s):
        if timeline.end_s <= brk.earliest_start_s:
            continue  # the route is over before the break is due
        options = [
            simulate(frame, nodes, start_s, [*placed, (p, brk)]) for p in range(len(nodes) + 1)
        ]
        ranked = sorted(
            range(len(options)),
            key=lambda p: (not options[p].feasible_within, options[p].end_s, p),
        )
        placed.append((ranked[0], brk))
        timeline = options[ranked[0]]
    return timeline


def latest_service_starts(
    frame: RouteFrame, nodes: Sequence[ScheduleNode], timeline: Timeline
) -> list[int]:
    """
    Latest service start of each visit that keeps every later window, break and the shift end.

    A backward pass over the fixed sequence and break positions; ``latest - planned`` is the
    visit's slack.
    """
    duration = frame.duration_s
    latest_arrival = frame.shift_end_s
    next_point = frame.end_point
    latest: list[int] = [0] * len(nodes)
    for k in range(len(nodes), 0, -1):
        node = nodes[k - 1]
        latest_departure = latest_arrival - int(duration[node.point, next_point])
        for after, brk in reversed(timeline.placements):
            if after == k:
                latest_departure = min(latest_departure - brk.duration_s, brk.latest_start_s)
        begin = latest_departure - node.service_s
        if node.window is not None:
            begin = min(begin, node.window.end_s)
        latest[k - 1] = begin
        latest_arrival = begin
        next_point = node.point
    return latest

"""The pure insertion core: cheapest leg, refusals, and schedules that really stay feasible."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lastmile.routing.geo import haversine_m
from lastmile.routing.haversine import DEFAULT_STRAIGHT_LINE_SPEEDS
from lastmile.routing.problem import Load
from lastmile.routing.profiles import RoutingProfile
from lastmile.slots.insertion import RouteNodes, RouteSet, cheapest_insertions

VAN = DEFAULT_STRAIGHT_LINE_SPEEDS[RoutingProfile.VAN]
SPEED = VAN.speed_kmh / 3.6
DEPOT = (41.15, -8.61)
BIG = Load(200, 2000.0, 10_000.0)


def road_s(a: tuple[float, float], b: tuple[float, float]) -> float:
    metres = haversine_m(np.array([a[0]]), np.array([a[1]]), np.array([b[0]]), np.array([b[1]]))
    return float(metres[0]) * VAN.circuity / SPEED


@dataclass
class Planned:
    """A route planned the way the planner times it, with its true windows and shift end."""

    points: list[tuple[float, float]]  # stops only
    windows: list[tuple[float, float]]
    service_s: list[float]
    loads: list[float]
    shift_end_s: float
    arrival: list[float]
    begin: list[float]
    departure: list[float]
    end_s: float

    def nodes(self, capacity: Load = BIG, reached: int = 0) -> RouteNodes:
        """The route as the core sees it, slack from a backward pass over the windows."""
        n = len(self.points)
        latest = [0.0] * n
        bound = self.shift_end_s
        nxt = DEPOT
        for k in range(n - 1, -1, -1):
            latest[k] = min(
                self.windows[k][1], bound - road_s(self.points[k], nxt) - self.service_s[k]
            )
            bound, nxt = latest[k], self.points[k]
        slack = [latest[k] - self.begin[k] for k in range(n)]
        return RouteNodes(
            route_id="r",
            lat=np.array([DEPOT[0], *(p[0] for p in self.points), DEPOT[0]]),
            lon=np.array([DEPOT[1], *(p[1] for p in self.points), DEPOT[1]]),
            arrival_s=np.array([0.0, *self.arrival, self.end_s]),
            departure_s=np.array([0.0, *self.departure, self.end_s]),
            slack_s=np.array([0.0, *slack, self.shift_end_s - self.end_s]),
            reached=np.array([True] + [k < reached for k in range(n)] + [False]),
            node_load=np.array([(0, 0, 0), *((1, w, 5.0) for w in self.loads), (0, 0, 0)], float),
            reload=np.zeros(n + 2, dtype=bool),
            capacity=capacity,
            max_payload_kg=None,
            profile=RoutingProfile.VAN,
            co2_g_per_km=240.0,
        )


def plan(
    points: list[tuple[float, float]],
    *,
    service_s: float = 60.0,
    early: list[float] | None = None,
    late: list[float] | None = None,
    shift_room_s: float = 3600.0,
) -> Planned:
    """Time ``points`` from the depot at t=0; window k is [arrival - early, begin + late]."""
    t, here = 0.0, DEPOT
    arrival, begin, departure, windows = [], [], [], []
    for k, point in enumerate(points):
        a = t + road_s(here, point)
        opens = a - (early[k] if early else 3600.0)
        start = max(a, opens)
        windows.append((opens, start + (late[k] if late else 3600.0)))
        arrival.append(a)
        begin.append(start)
        t = start + service_s
        departure.append(t)
        here = point
    end = t + road_s(here, DEPOT)
    return Planned(
        points, windows, [service_s] * len(points), [2.0] * len(points), end + shift_room_s,
        arrival, begin, departure, end,
    )  # fmt: skip


LINE = [(41.15 + 0.005 * k, -8.60) for k in range(1, 6)]  # north, ~550 m apart


def test_the_leg_beside_the_point_is_chosen() -> None:
    """A point next to the leg between stops 2 and 3 goes on that leg, with a small detour."""
    routes = RouteSet.build([plan(LINE).nodes()])
    here = (41.15 + 0.0125, -8.5995)  # between stops 2 and 3, 40 m east of the leg
    result = cheapest_insertions(
        routes, *here, service_s=60, load=Load(1, 1.0, 5.0),
        window_start_s=[0.0], window_end_s=[8 * 3600.0], now_s=0.0,
    )  # fmt: skip
    assert result.feasible[0, 0]
    assert result.position[0, 0] == 2
    assert result.detour_m[0, 0] < 200
    assert result.best_route().tolist() == [0]


def test_windows_that_cannot_be_met_are_refused() -> None:
    """A window before the vehicle can arrive, or after the shift allows, is infeasible."""
    routes = RouteSet.build([plan(LINE, shift_room_s=600).nodes()])
    result = cheapest_insertions(
        routes, 41.16, -8.61, service_s=60, load=Load(1, 1.0, 1.0),
        window_start_s=[-7200.0, 0.0, 20 * 3600.0], window_end_s=[-3600.0, 4 * 3600.0, 22 * 3600.0],
        now_s=0.0,
    )  # fmt: skip
    assert result.feasible[0].tolist() == [False, True, False]
    assert result.best_route().tolist() == [-1, 0, -1]


def test_no_slack_no_insertion() -> None:
    """When every later window is tight and the shift ends with the route, nothing fits."""
    tight = plan(LINE, early=[0.0] * 5, late=[0.0] * 5, shift_room_s=0.0)
    result = cheapest_insertions(
        RouteSet.build([tight.nodes()]), 41.16, -8.6101, service_s=60, load=Load(1, 1, 1),
        window_start_s=[0.0], window_end_s=[86_400.0], now_s=0.0,
    )  # fmt: skip
    assert not result.feasible[0, 0]


def test_a_full_vehicle_takes_nothing_more() -> None:
    """The load already on the trip plus the new parcel must fit the vehicle."""
    route = plan(LINE)
    full = RouteSet.build([route.nodes(capacity=Load(5, 2000.0, 10_000.0))])
    roomy = RouteSet.build([route.nodes(capacity=Load(6, 2000.0, 10_000.0))])
    args = dict(service_s=60, load=Load(1, 1.0, 1.0), window_start_s=[0.0],
                window_end_s=[86_400.0], now_s=0.0)  # fmt: skip
    assert not cheapest_insertions(full, 41.16, -8.61, **args).feasible[0, 0]  # type: ignore[arg-type]
    assert cheapest_insertions(roomy, 41.16, -8.61, **args).feasible[0, 0]  # type: ignore[arg-type]


def test_legs_already_driven_are_not_offered() -> None:
    """Once the driver reached stop 3, the point beside leg 2 -> 3 goes on a later leg."""
    routes = RouteSet.build([plan(LINE).nodes(reached=3)])
    result = cheapest_insertions(
        routes, 41.15 + 0.0125, -8.5995, service_s=60, load=Load(1, 1.0, 1.0),
        window_start_s=[0.0], window_end_s=[86_400.0], now_s=0.0,
    )  # fmt: skip
    assert result.feasible[0, 0]
    assert result.position[0, 0] >= 3


def test_the_best_route_of_several_is_the_nearest() -> None:
    """Among two routes the one passing by the point wins; padding of the shorter is ignored."""
    east = [(41.15 + 0.005 * k, -8.55) for k in range(1, 3)]
    routes = RouteSet.build([plan(east).nodes(), plan(LINE).nodes()])
    result = cheapest_insertions(
        routes, 41.165, -8.5995, service_s=60, load=Load(1, 1.0, 1.0),
        window_start_s=[0.0], window_end_s=[86_400.0], now_s=0.0,
    )  # fmt: skip
    assert result.best_route().tolist() == [1]


def resimulate(route: Planned, k: int, point: tuple[float, float], service_s: float,
               window: tuple[float, float], begin_new: float) -> bool:  # fmt: skip
    """Drive the route with the visit inserted after node ``k``; True if every promise holds."""
    nodes = [DEPOT, *route.points]
    t = 0.0 if k == 0 else route.departure[k - 1]
    arrive = t + road_s(nodes[k], point)
    start = max(arrive, window[0])
    if start > window[1] + 1e-6 or abs(start - begin_new) > 1e-3:
        return False
    t, here = start + service_s, point
    for j in range(k, len(route.points)):
        a = t + road_s(here, route.points[j])
        s = max(a, route.windows[j][0])
        if s > route.windows[j][1] + 1e-6:
            return False
        t, here = s + route.service_s[j], route.points[j]
    return t + road_s(here, DEPOT) <= route.shift_end_s + 1e-6


coordinate = st.tuples(st.floats(41.13, 41.19), st.floats(-8.65, -8.57))


@settings(max_examples=150, deadline=None)
@given(
    points=st.lists(coordinate, min_size=1, max_size=8),
    early=st.lists(st.floats(0, 7200), min_size=8, max_size=8),
    late=st.lists(st.floats(0, 3600), min_size=8, max_size=8),
    shift_room=st.floats(0, 7200),
    point=coordinate,
    window=st.tuples(st.floats(0, 6 * 3600), st.floats(600, 4 * 3600)),
    service=st.floats(0, 600),
    capacity=st.integers(1, 10),
)
def test_a_feasible_insertion_keeps_every_window_and_the_shift(
    points: list[tuple[float, float]], early: list[float], late: list[float], shift_room: float,
    point: tuple[float, float], window: tuple[float, float], service: float, capacity: int,
) -> None:  # fmt: skip
    """Whatever the route, an insertion called feasible, driven for real, misses no window,
    ends within the shift and fits the vehicle."""
    route = plan(points, early=early, late=late, shift_room_s=shift_room)
    routes = RouteSet.build([route.nodes(capacity=Load(capacity, 1000.0, 1000.0))])
    opens, length = window
    result = cheapest_insertions(
        routes, *point, service_s=service, load=Load(1, 1.0, 1.0),
        window_start_s=[opens], window_end_s=[opens + length], now_s=0.0,
    )  # fmt: skip
    if result.feasible[0, 0]:
        assert len(points) + 1 <= capacity
        k = int(result.position[0, 0])
        began = float(result.service_start_s[0, 0])
        assert resimulate(route, k, point, service, (opens, opens + length), began)
        assert result.detour_m[0, 0] >= -1e-6

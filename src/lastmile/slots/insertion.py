"""Cheapest feasible insertion of one delivery into a day's committed routes (pure, vectorised).

A committed route is a sequence of nodes: its start depot, its stops (reloads included) and
its end depot, each with planned times and *slack* (how much later service may start without
breaking any later window, break or the shift end; the planner computes it). Inserting a
visit on the leg ``k -> k+1`` costs a detour and pushes everything after ``k`` later by::

    delay = wait at the new stop + (detour / route speed) + service time
            (+ how late the vehicle already is when leg k should have started before now)

The insertion is feasible when service can start inside the window, ``delay`` fits in node
``k+1``'s slack (the shift end for the end depot), the leg is not already driven, and the
trip that leg belongs to has room for the load. Treating the whole delay as pushed on is
conservative: waiting planned at ``k+1`` could absorb part of it.

Distances are great-circle metres times the profile's circuity; durations use the route's own
planned speed (its estimated distance over its planned driving time), so a slow, congested
plan stays slow. All routes, legs and windows are evaluated at once with NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lastmile.routing.geo import haversine_m
from lastmile.routing.haversine import DEFAULT_STRAIGHT_LINE_SPEEDS
from lastmile.routing.problem import Load
from lastmile.routing.profiles import RoutingProfile

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]
# Legs shorter than this carry no usable speed (consecutive stops at one address).
_MIN_SPEED_LEG_M = 50.0


@dataclass(frozen=True, slots=True)
class RouteNodes:
    """
    One committed route as the insertion check sees it.

    Parameters
    ----------
    route_id
        The route's id, handed back with its insertions.
    lat, lon
        Node coordinates (degrees): start depot, stops in order, end depot.
    arrival_s, departure_s
        Planned arrival at and departure from each node, seconds from the day's epoch (the
        start depot's arrival is its departure, the end depot's departure its arrival).
    slack_s
        How much later service at each node may start; for the end depot, how much later the
        route may end (the shift end minus the planned end). The start depot's is unused.
    reached
        Nodes the vehicle has already reached (or is at): no insertion before them.
    node_load
        Load delivered at each node, shape ``(n, 3)`` (parcels, kg, litres); depots carry none.
    reload
        Nodes where the vehicle reloads: each starts a new trip with its own load.
    capacity
        The vehicle's capacity.
    max_payload_kg
        Heaviest single delivery the vehicle may carry (drones), or None.
    profile
        Routing profile, for the circuity of straight-line distances.
    co2_g_per_km
        Emissions per kilometre driven (tank-to-wheel plus grid electricity).
    """

    route_id: str
    lat: FloatArray
    lon: FloatArray
    arrival_s: FloatArray
    departure_s: FloatArray
    slack_s: FloatArray
    reached: BoolArray
    node_load: FloatArray
    reload: BoolArray
    capacity: Load
    max_payload_kg: float | None
    profile: RoutingProfile
    co2_g_per_km: float

    def circuity(self) -> float:
        return DEFAULT_STRAIGHT_LINE_SPEEDS[self.profile].circuity

    def leg_distance_m(self) -> FloatArray:
        """Estimated road distance of each planned leg."""
        legs: FloatArray = (
            haversine_m(self.lat[:-1], self.lon[:-1], self.lat[1:], self.lon[1:]) * self.circuity()
        )
        return legs

    def speed_mps(self) -> float:
        """The route's planned driving speed: estimated distance over planned driving time."""
        legs = self.leg_distance_m()
        driving = self.arrival_s[1:] - self.departure_s[:-1]
        usable = (legs >= _MIN_SPEED_LEG_M) & (driving > 0)
        if usable.any():
            return float(legs[usable].sum() / driving[usable].sum())
        return DEFAULT_STRAIGHT_LINE_SPEEDS[self.profile].speed_kmh / 3.6

    def trip_load(self) -> FloatArray:
        """Load on board for each leg ``k -> k+1``: the total of the trip that leg is part of."""
        trip = np.concatenate(([0], np.cumsum(self.reload[1:-1].astype(np.int64))))
        totals = np.zeros((int(trip[-1]) + 1, 3))
        # Node k+1's delivery belongs to the trip of leg k.
        np.add.at(totals, trip, self.node_load[1:])
        load: FloatArray = totals[trip]
        return load


@dataclass(frozen=True, slots=True)
class RouteSet:
    """Routes stacked into padded ``(routes, legs)`` arrays, built once per day and reused."""

    route_ids: tuple[str, ...]
    lat: FloatArray  # (R, M) nodes, NaN-padded
    lon: FloatArray
    leg_m: FloatArray  # (R, E) with E = M - 1
    leg_departure_s: FloatArray  # departure from the leg's first node
    next_slack_s: FloatArray  # slack of the leg's last node
    open_leg: BoolArray  # a real leg not yet driven
    leg_load: FloatArray  # (R, E, 3)
    capacity: FloatArray  # (R, 3)
    max_payload_kg: FloatArray  # (R,), inf when unlimited
    circuity: FloatArray  # (R,)
    speed_mps: FloatArray  # (R,)
    co2_g_per_m: FloatArray  # (R,)

    @classmethod
    def build(cls, routes: Sequence[RouteNodes]) -> RouteSet:
        count = len(routes)
        width = max((len(r.lat) for r in routes), default=2)
        lat = np.full((count, width), np.nan)
        lon = np.full((count, width), np.nan)
        leg_m = np.zeros((count, width - 1))
        departure = np.zeros((count, width - 1))
        slack = np.full((count, width - 1), -np.inf)
        open_leg = np.zeros((count, width - 1), dtype=bool)
        load = np.zeros((count, width - 1, 3))
        for i, route in enumerate(routes):
            n = len(route.lat)
            lat[i, :n], lon[i, :n] = route.lat, route.lon
            leg_m[i, : n - 1] = route.leg_distance_m()
            departure[i, : n - 1] = route.departure_s[:-1]
            slack[i, : n - 1] = route.slack_s[1:]
            open_leg[i, : n - 1] = ~route.reached[1:]
            load[i, : n - 1] = route.trip_load()
        return cls(
            route_ids=tuple(r.route_id for r in routes),
            lat=lat,
            lon=lon,
            leg_m=leg_m,
            leg_departure_s=departure,
            next_slack_s=slack,
            open_leg=open_leg,
            leg_load=load,
            capacity=np.array(
                [[r.capacity.parcels, r.capacity.kg, r.capacity.litres] for r in routes]
            ).reshape(count, 3),
            max_payload_kg=np.array(
                [np.inf if r.max_payload_kg is None else r.max_payload_kg for r in routes]
            ),
            circuity=np.array([r.circuity() for r in routes]),
            speed_mps=np.array([r.speed_mps() for r in routes]),
            co2_g_per_m=np.array([r.co2_g_per_km / 1000 for r in routes]),
        )

    def __len__(self) -> int:
        return len(self.route_ids)


@dataclass(frozen=True, slots=True)
class Insertions:
    """
    The cheapest feasible insertion into each route for each window, shape ``(R, W)``.

    ``position[r, w]`` is the leg ``k -> k+1`` the visit goes on (after node ``k``; node 0 is
    the start depot); entries where ``feasible`` is False are meaningless.
    """

    feasible: BoolArray
    position: IntArray
    detour_m: FloatArray
    added_s: FloatArray
    arrival_s: FloatArray
    service_start_s: FloatArray
    co2_g: FloatArray

    def best_route(self) -> IntArray:
        """For each window, the route with the smallest detour, or -1 when none can take it."""
        if self.feasible.shape[0] == 0:
            return np.full(self.feasible.shape[1], -1, dtype=np.int64)
        cost = np.where(self.feasible, self.detour_m, np.inf)
        best = np.argmin(cost, axis=0)
        found = self.feasible[best, np.arange(cost.shape[1])]
        out: IntArray = np.where(found, best, -1).astype(np.int64)
        return out


def cheapest_insertions(
    routes: RouteSet,
    lat: float,
    lon: float,
    *,
    service_s: float,
    load: Load,
    window_start_s: Sequence[float] | FloatArray,
    window_end_s: Sequence[float] | FloatArray,
    now_s: float,
) -> Insertions:
    """
    Cheapest feasible insertion of a visit at ``(lat, lon)`` into every route, per window.

    Parameters
    ----------
    routes
        The day's committed routes.
    lat, lon
        Where the delivery is.
    service_s
        Time spent at the new stop (setup included).
    load
        What the delivery takes on the vehicle.
    window_start_s, window_end_s
        Candidate windows for the start of service, seconds from the day's epoch.
    now_s
        The present: a vehicle leaves no node earlier than this.

    Returns
    -------
    Insertions
        Arrays of shape ``(len(routes), len(windows))``.
    """
    starts = np.asarray(window_start_s, dtype=np.float64)
    ends = np.asarray(window_end_s, dtype=np.float64)
    to_point = haversine_m(routes.lat, routes.lon, np.array([lat]), np.array([lon]))
    to_point = to_point * routes.circuity[:, None]
    d_in, d_out = to_point[:, :-1], to_point[:, 1:]
    detour = d_in + d_out - routes.leg_m  # (R, E)
    speed = routes.speed_mps[:, None]
    arrive = np.maximum(routes.leg_departure_s, now_s) + d_in / speed
    wanted = np.array([load.parcels, load.kg, load.litres])
    fits = np.all(routes.leg_load + wanted <= routes.capacity[:, None, :] + 1e-6, axis=2)
    fits &= (load.kg <= routes.max_payload_kg + 1e-6)[:, None]
    static_ok = routes.open_leg & fits & ~np.isnan(detour)

    begin = np.maximum(arrive[:, :, None], starts[None, None, :])  # (R, E, W)
    # Against the planned arrival at k+1: a leg already late (left before now) counts in full.
    planned_next = routes.leg_departure_s + routes.leg_m / speed
    delay = begin + (service_s + d_out / speed - planned_next)[:, :, None]
    feasible = (
        static_ok[:, :, None]
        & (begin <= ends[None, None, :])
        & (delay <= routes.next_slack_s[:, :, None])
    )
    # Cheapest by detour; among equal detours the smallest delay.
    cost = np.where(feasible, detour[:, :, None] + 1e-6 * delay, np.inf)
    position = np.argmin(cost, axis=1)  # (R, W)
    pick = position[:, None, :]
    found = np.take_along_axis(feasible, pick, axis=1)[:, 0, :]
    detour_m = np.take_along_axis(np.broadcast_to(detour[:, :, None], cost.shape), pick, axis=1)
    added = np.take_along_axis(delay, pick, axis=1)[:, 0, :]
    return Insertions(
        feasible=found,
        position=position.astype(np.int64),
        detour_m=detour_m[:, 0, :],
        added_s=added,
        arrival_s=np.take_along_axis(arrive, position, axis=1),
        service_start_s=np.take_along_axis(begin, pick, axis=1)[:, 0, :],
        co2_g=detour_m[:, 0, :] * routes.co2_g_per_m[:, None],
    )

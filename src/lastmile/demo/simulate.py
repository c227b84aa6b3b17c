"""The demo's simulated fleet: every dispatched route's vehicle drives its plan, live.

:func:`positions_at` (pure) says where a vehicle that keeps exactly to its plan is at an
instant: along the route geometry between stops, arriving when planned, parked at a stop from
its planned arrival to its planned departure. :class:`FleetSimulator` turns that into
GPS fixes with noise, every few seconds, through the same ingest as real devices, and does what
a driver does and tracking cannot: hands the parcels over (delivered) on leaving a stop.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
import random
import threading
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import FastAPI
from sqlalchemy import select

from lastmile.auth.principal import Access, Principal
from lastmile.db.engine import Database
from lastmile.kit.clock import utcnow
from lastmile.orders.repository import OrderRepository
from lastmile.orders.service import OrderService
from lastmile.orders.status import OrderStatus
from lastmile.planning.models import Route, RouteStatus, RouteStop, StopStatus
from lastmile.planning.service import RouteRepository
from lastmile.routing.geo import great_circle_m
from lastmile.services import Services
from lastmile.tracking.fixes import IncomingFix
from lastmile.tracking.models import FixSource
from lastmile.tracking.runtime import TrackingRuntime

log = logging.getLogger(__name__)

Point = tuple[float, float]  # (lat, lon)
Phase = Literal["depot", "parked", "driving", "stop", "done"]
# A geometry vertex this close to a stop is the stop (the planner draws through stops exactly).
SAME_POINT_M = 1.0
NOT_REACHED = (StopStatus.pending, StopStatus.arriving)
# A leg planned this many times slower than the route's usual pace holds idle time (a break,
# a start before the first stop is open): the vehicle parks first, then drives at that pace.
IDLE_FACTOR = 2.0
MIN_PACE_LEG_M = 200.0
METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True, slots=True)
class SimStop:
    """A stop as planned: where, when (UNIX seconds), and the orders handed over there."""

    stop_id: str
    lat: float
    lon: float
    arrival: float
    departure: float
    order_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Leg:
    """The way from one place to the next along the route geometry, ``start`` to ``end``:
    parked until ``moving_from`` (a break, an early start), then driving at a steady pace."""

    start: float
    end: float
    points: tuple[Point, ...]
    cumulative: tuple[float, ...]  # metres from points[0] to each point
    moving_from: float

    @property
    def length_m(self) -> float:
        return self.cumulative[-1]


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """A committed route as the simulator drives it: ``legs[i]`` ends at ``stops[i]``, the last
    leg returns to the depot."""

    route_id: str
    vehicle_id: str
    driver_id: str | None
    stops: tuple[SimStop, ...]
    legs: tuple[Leg, ...]
    # [legs[0].start, stops[0].arrival, stops[0].departure, ..., legs[-1].end]
    boundaries: tuple[float, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.legs) != len(self.stops) + 1:
            raise ValueError("a route plan needs one leg more than it has stops")
        times = [self.legs[0].start]
        for stop in self.stops:
            times += [stop.arrival, stop.departure]
        times.append(self.legs[-1].end)
        object.__setattr__(self, "boundaries", tuple(times))

    @property
    def starts_at(self) -> float:
        return self.legs[0].start

    @property
    def ends_at(self) -> float:
        return self.legs[-1].end


@dataclass(frozen=True, slots=True)
class SimPosition:
    """Where a vehicle keeping to its plan is; ``stop_index`` is the stop it is at or driving to
    (None at the depot)."""

    lat: float
    lon: float
    speed_mps: float
    heading_deg: float | None
    phase: Phase
    stop_index: int | None


def _leg(start: float, end: float, points: Sequence[Point]) -> Leg:
    kept = [points[0]]
    for p in points[1:]:
        if p != kept[-1]:
            kept.append(p)
    if len(kept) == 1:
        kept.append(kept[0])
    cumulative = [0.0]
    for a, b in itertools.pairwise(kept):
        cumulative.append(cumulative[-1] + great_circle_m(a[0], a[1], b[0], b[1]))
    return Leg(start, max(start, end), tuple(kept), tuple(cumulative), start)


def _with_idle(legs: list[Leg]) -> list[Leg]:
    """Legs whose planned time holds idle time, parked first (see ``IDLE_FACTOR``)."""
    paces = sorted(
        leg.length_m / (leg.end - leg.start)
        for leg in legs
        if leg.length_m >= MIN_PACE_LEG_M and leg.end > leg.start
    )
    if not paces:
        return legs
    pace = paces[len(paces) // 2]
    return [
        replace(leg, moving_from=leg.end - leg.length_m / pace)
        if leg.end - leg.start > IDLE_FACTOR * leg.length_m / pace
        else leg
        for leg in legs
    ]


def _anchor(coords: Sequence[Point], start: int, target: Point) -> int:
    """Index of the vertex at or after ``start`` where the line passes ``target``: the first
    one on it, else the nearest (earliest of equals, so a route passing twice keeps its order)."""
    best, best_d = start, math.inf
    for i in range(start, len(coords)):
        d = great_circle_m(coords[i][0], coords[i][1], target[0], target[1])
        if d <= SAME_POINT_M:
            return i
        if d < best_d:
            best, best_d = i, d
    return best


def route_plan(
    route_id: str,
    vehicle_id: str,
    driver_id: str | None,
    starts_at: float,
    ends_at: float,
    geometry: Mapping[str, Any] | None,
    stops: Sequence[SimStop],
) -> RoutePlan:
    """
    Split a route's GeoJSON LineString (depot, stops..., depot) into legs between its stops.

    Parameters
    ----------
    starts_at, ends_at
        Leaving the start depot and arriving back (UNIX seconds).
    geometry
        The route's LineString; without one (or a degenerate one) legs are straight lines
        from the first stop.
    stops
        In visiting order with planned times.
    """
    raw = list((geometry or {}).get("coordinates") or [])
    coords: list[Point] = [(float(c[1]), float(c[0])) for c in raw]
    if len(coords) < 2:
        first = (stops[0].lat, stops[0].lon) if stops else (0.0, 0.0)
        coords = [first, *((s.lat, s.lon) for s in stops), coords[-1] if coords else first]
    legs: list[Leg] = []
    cursor, previous, leaving = 0, coords[0], starts_at
    for stop in stops:
        here = (stop.lat, stop.lon)
        index = _anchor(coords, cursor, here)
        legs.append(_leg(leaving, stop.arrival, [previous, *coords[cursor : index + 1], here]))
        cursor, previous, leaving = index, here, stop.departure
    legs.append(_leg(leaving, ends_at, [previous, *coords[cursor:]]))
    return RoutePlan(route_id, vehicle_id, driver_id, tuple(stops), tuple(_with_idle(legs)))


def _heading(a: Point, b: Point) -> float:
    lat1, lat2 = math.radians(a[0]), math.radians(b[0])
    dlon = math.radians(b[1] - a[1])
    x = math.sin(dlon) * math.cos(lat2)
    y = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(dlon)
    return (math.degrees(math.atan2(x, y)) + 360.0) % 360.0


def _along(leg: Leg, t: float) -> tuple[Point, float, float | None]:
    """Position, speed and heading on ``leg`` at ``t`` (once moving: a steady pace)."""
    duration = leg.end - leg.moving_from
    if duration <= 0 or leg.length_m <= 0:
        return leg.points[-1], 0.0, None
    travelled = leg.length_m * min(1.0, max(0.0, (t - leg.moving_from) / duration))
    k = max(1, min(len(leg.points) - 1, bisect.bisect_left(leg.cumulative, travelled)))
    a, b = leg.points[k - 1], leg.points[k]
    span = leg.cumulative[k] - leg.cumulative[k - 1]
    f = 0.0 if span <= 0 else (travelled - leg.cumulative[k - 1]) / span
    point = (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)
    return point, leg.length_m / duration, _heading(a, b)


def positions_at(plan: RoutePlan, t: float) -> SimPosition:
    """
    Where the vehicle of ``plan`` is at ``t`` (UNIX seconds) if it keeps exactly to the plan.

    Before the route starts it waits at the depot. Each leg is driven at the steady pace that
    takes it from the previous departure to the planned arrival, except that a leg holding
    idle time (a break) is parked through it first and then driven at the route's usual pace.
    At a stop it is parked on the stop from arrival to departure; after the route it is back
    at the depot.
    """
    if t < plan.starts_at:
        lat, lon = plan.legs[0].points[0]
        return SimPosition(lat, lon, 0.0, None, "depot", None)
    if t >= plan.ends_at:
        lat, lon = plan.legs[-1].points[-1]
        return SimPosition(lat, lon, 0.0, None, "done", None)
    segment = bisect.bisect_right(plan.boundaries, t) - 1  # even: a leg, odd: a stop
    index = segment // 2
    if segment % 2:
        stop = plan.stops[index]
        return SimPosition(stop.lat, stop.lon, 0.0, None, "stop", index)
    leg, heading_to = plan.legs[index], index if index < len(plan.stops) else None
    if t < leg.moving_from:
        lat, lon = leg.points[0]
        return SimPosition(lat, lon, 0.0, None, "parked", heading_to)
    (lat, lon), speed, heading = _along(leg, t)
    return SimPosition(lat, lon, speed, heading, "driving", heading_to)


def load_route_plans(
    db: Database, organization_id: str, *, leave: Collection[str] = ()
) -> list[RoutePlan]:
    """Every dispatched or running route of the organisation but those in ``leave`` (driven
    by a person), earliest start first."""
    principal = Principal(organization_id, Access.admin, system="simulator")
    with db.unit_of_work(readonly=True) as session:
        routes = session.scalars(
            RouteRepository(session, principal)
            .scoped()
            .where(Route.status.in_((RouteStatus.dispatched, RouteStatus.in_progress)))
            .where(Route.id.not_in(leave))
            .order_by(Route.starts_at, Route.id)
        ).all()
        return [
            route_plan(
                r.id, r.vehicle_id, r.driver_id, r.starts_at.timestamp(), r.ends_at.timestamp(),
                r.geometry,
                [
                    SimStop(s.id, s.lat, s.lon, s.planned_arrival.timestamp(),
                            s.planned_departure.timestamp(), tuple(s.order_ids))
                    for s in r.stops
                ],
            )
            for r in routes
        ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class TickReport:
    """What one tick did: fixes sent and accepted, stops finished, orders delivered."""

    fixes: int
    accepted: int
    stops_done: int
    delivered: int


class FleetSimulator:
    """
    Drives ``plans`` in real time times ``speed``: every ``interval_s``, the orders of each stop
    the plan has left are delivered, then every moving vehicle sends a fix (all vehicles in one
    unit of work).

    Fixes carry the real clock's time (the ingest refuses future and stale fixes); the plan's
    clock runs ``speed`` times as fast from the first tick. Geofences (arrival, departure) and
    the order moves that follow them are the tracking processor's; when a stop is left that
    it never saw reached (the simulator started after it, or a speed-up made the stay shorter
    than the arrival dwell), the simulator confirms arrival and departure as a driver would.
    Noise is drawn from ``seed`` per vehicle, so a run is repeatable.
    """

    def __init__(
        self,
        db: Database,
        tracking: TrackingRuntime,
        services: Services,
        organization_id: str,
        plans: Sequence[RoutePlan],
        *,
        speed: float = 1.0,
        interval_s: float = 5.0,
        seed: int = 7,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if speed <= 0 or interval_s <= 0:
            raise ValueError("speed and interval_s must be positive")
        self.db = db
        self.tracking = tracking
        self.services = services
        self.organization_id = organization_id
        self.plans = list(plans)
        self.speed = speed
        self.interval_s = interval_s
        self.clock = clock
        self.principal = Principal(organization_id, Access.admin, system="simulator")
        self._rng = {p.vehicle_id: random.Random(f"{seed}:{p.vehicle_id}") for p in self.plans}
        self._origin: tuple[datetime, float] | None = None  # (real, plan time) of the first tick
        self._done: set[str] = set()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- clocks -----------------------------------------------------------------------------

    def plan_time(self, now: datetime) -> float:
        """The plan's clock (UNIX seconds) at real time ``now``."""
        if self._origin is None:
            self._origin = (now, now.timestamp())
        real, planned = self._origin
        return planned + (now - real).total_seconds() * self.speed

    def _real(self, planned: float, now: datetime) -> datetime:
        """When a plan instant happened on the real clock (as planned, if before the start)."""
        assert self._origin is not None
        real, origin = self._origin
        if planned <= origin:
            return datetime.fromtimestamp(planned, UTC)
        moment = datetime.fromtimestamp(real.timestamp() + (planned - origin) / self.speed, UTC)
        return min(moment, now)

    # -- one tick ---------------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> TickReport:
        """Finish the stops the plan has left, then send every moving vehicle's fix."""
        now = now or self.clock()
        t = self.plan_time(now)
        stops_done, delivered = self._leave_stops(t, now)
        fixes = {
            plan.vehicle_id: (plan, self._fix(plan, positions_at(plan, t), t, now))
            for plan in self.plans
            if plan.starts_at <= t <= plan.ends_at
        }
        accepted = 0
        if fixes:
            with self.db.unit_of_work() as session:
                for vehicle_id, (plan, fix) in fixes.items():
                    accepted += self.tracking.ingest.record(
                        session, self.organization_id, vehicle_id, [fix], FixSource.simulation,
                        driver_id=plan.driver_id, now=now,
                    ).accepted  # fmt: skip
        return TickReport(len(fixes), accepted, stops_done, delivered)

    def _fix(self, plan: RoutePlan, at: SimPosition, t: float, now: datetime) -> IncomingFix:
        rng = self._rng[plan.vehicle_id]
        accuracy = rng.uniform(5.0, 15.0)
        # Uniform within the accuracy circle: a phone's error, never beyond what it reports.
        off, bearing = accuracy * math.sqrt(rng.random()), rng.uniform(0.0, 2 * math.pi)
        lat = at.lat + off * math.cos(bearing) / METRES_PER_DEGREE
        lon = at.lon + off * math.sin(bearing) / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
        hours = max(0.0, t - plan.starts_at) / 3600
        return IncomingFix(
            t=now, lat=round(lat, 7), lon=round(lon, 7), accuracy_m=round(accuracy, 1),
            speed_mps=round(at.speed_mps * self.speed, 2), heading_deg=at.heading_deg,
            battery=round(max(0.15, 0.95 - 0.04 * hours), 3),
        )  # fmt: skip

    def _leave_stops(self, t: float, now: datetime) -> tuple[int, int]:
        """Hand over the orders of every stop the plan has left (one unit of work)."""
        due = [
            (plan, stop)
            for plan in self.plans
            for stop in plan.stops
            if stop.departure <= t and stop.stop_id not in self._done
        ]
        if not due:
            return 0, 0
        delivered = 0
        with self.db.unit_of_work() as session:
            status = {
                stop_id: state
                for stop_id, state in session.execute(
                    select(RouteStop.id, RouteStop.status).where(
                        RouteStop.organization_id == self.organization_id,
                        RouteStop.id.in_([stop.stop_id for _, stop in due]),
                    )
                )
            }
            for plan, stop in due:
                if status.get(stop.stop_id) in NOT_REACHED:
                    for what, planned in (("arrival", stop.arrival), ("departure", stop.departure)):
                        self.tracking.processor.confirm(
                            session, self.principal, plan.route_id, stop.stop_id, what,
                            self._real(planned, now),
                        )  # fmt: skip
            orders = OrderService(session, self.principal, self.services)
            order_ids = [o for _, stop in due for o in stop.order_ids]
            for order in OrderRepository(session, self.principal).get_many(order_ids):
                # Tracking moves orders out for delivery when the route starts; a stop left
                # before it processed the route's first fix still hands its parcels over.
                orders.follow(order, OrderStatus.out_for_delivery, "route started")
                if orders.follow(order, OrderStatus.delivered, "handed over (simulated driver)"):
                    delivered += 1
        self._done.update(stop.stop_id for _, stop in due)
        return len(due), delivered

    # -- the thread -------------------------------------------------------------------------

    def start(self) -> None:
        """Tick every ``interval_s`` in a background thread until :meth:`stop`."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="fleet-simulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
            except Exception:  # one bad tick must not stop the fleet for the rest of the demo
                log.exception("simulated fleet tick failed")
            self._stopping.wait(self.interval_s)


def simulate_fleet(
    app: FastAPI,
    organization_id: str,
    *,
    speed: float = 1.0,
    seed: int = 7,
    leave: Collection[str] = (),
) -> FastAPI:
    """Run a :class:`FleetSimulator` over the organisation's routes while ``app`` serves.

    The demo's hook: the app's own lifespan (migrations, tracking runtime) runs first, the
    simulator starts inside it and stops before it ends, so Ctrl-C shuts both down in order.
    """
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[Any]:
        async with inner(served) as state:
            db: Database = served.state.db
            simulator = FleetSimulator(
                db, served.state.tracking, served.state.services, organization_id,
                load_route_plans(db, organization_id, leave=leave), speed=speed, seed=seed,
            )  # fmt: skip
            simulator.start()
            try:
                yield state
            finally:
                simulator.stop()

    app.router.lifespan_context = lifespan
    return app

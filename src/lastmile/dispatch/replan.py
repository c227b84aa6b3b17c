"""Re-planning the rest of a route: its stops not yet reached, in a new order, from here.

The remaining stops of the current trip (up to the next reload, or the end depot) form a
one-vehicle problem with time windows, solved in-process by PyVRP through the routing core
(``routing.plan_routes``) within a short time limit. The vehicle starts where it is (its
latest fix, else the last stop it reached, else its start depot) no earlier than now, and must
reach the trip's end by the time the current plan allowed (its planned arrival plus slack),
so later trips and the shift end stay as they are. Travel is straight-line at the route's own
planned speed and circuity (the insertion core's reading of a route), so re-planned times
agree with the moves and slot checks made against the route.

Stops whose window is already over keep no window (they are late whatever the order). If the
solver cannot fit every remaining stop, nothing changes (409).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from lastmile.auth.principal import Principal
from lastmile.dispatch.stops import (
    add_distance,
    announce_routes,
    demand,
    depots_of,
    ordered,
    redraw,
    road_m,
)
from lastmile.fleet.models import Vehicle
from lastmile.kit.clock import utcnow
from lastmile.kit.errors import Conflict
from lastmile.live.latest import LatestPositions
from lastmile.orders.service import OrderService
from lastmile.organizations.repository import get_organization
from lastmile.planning.assemble import local_midnight
from lastmile.planning.models import Route, RouteStatus, RouteStop, StopStatus
from lastmile.planning.service import RouteService
from lastmile.routing import (
    Depot,
    HaversineModel,
    InvalidProblem,
    Job,
    Load,
    PlanningOptions,
    Problem,
    StraightLineSpeed,
    TimeWindow,
    VehicleType,
    plan_routes,
)
from lastmile.routing.geo import Coordinate
from lastmile.routing.plan import PlannedRoute
from lastmile.routing.profiles import RoutingProfile
from lastmile.selfservice.replan import carried_state
from lastmile.services import Services
from lastmile.slots.repository import PlanReader

# The parcels are on board already: capacity does not limit the order of the stops.
ON_BOARD = Load(10**6, 1e9, 1e9)
SEED = 1


class NothingToReplan(Conflict):
    slug, title = "nothing-to-replan", "Nothing to re-plan"


class Replanner:
    """Re-sequences a route's remaining stops. Never commits."""

    def __init__(
        self, session: Session, principal: Principal, services: Services, latest: LatestPositions
    ) -> None:
        self.session = session
        self.principal = principal
        self.services = services
        self.latest = latest
        self.routes = RouteService(session, principal)
        self.orders = OrderService(session, principal, services)
        self.grid = services.settings.grid_kg_co2e_per_kwh
        self.tz = ZoneInfo(get_organization(session, principal.organization_id).timezone)

    def replan(self, route_id: str, time_limit_s: float) -> tuple[Route, list[str], list[str]]:
        """Re-sequence and apply; returns the route and the stop ids before and after."""
        route = self.routes.get(route_id, for_update=True)
        if route.status is RouteStatus.completed:
            raise NothingToReplan("The route is completed.")
        stops = ordered(route)
        pending = [s.status is StopStatus.pending for s in stops]
        # A stop counts as reached once it or any later stop is no longer pending.
        first_open = max((i + 1 for i, p in enumerate(pending) if not p), default=0)
        segment: list[RouteStop] = []
        for stop in stops[first_open:]:
            if stop.kind != "stop":
                break
            segment.append(stop)
        if not segment:
            raise NothingToReplan("No stop is left to re-plan before the next reload or the end.")
        before = [s.id for s in segment]
        if len(segment) == 1:
            return route, before, before
        vehicle = self.session.get(Vehicle, route.vehicle_id)
        assert vehicle is not None
        epoch = local_midnight(route.service_date, self.tz)
        here, leave_s = self._start(route, stops[:first_open], vehicle, epoch)
        end_stop = (
            stops[first_open + len(segment)] if first_open + len(segment) < len(stops) else None
        )
        end, deadline = self._end(route, stops, end_stop)
        planned = self._solve(route, vehicle, segment, here, leave_s, end, deadline, epoch,
                              time_limit_s)  # fmt: skip
        by_id = {s.id: s for s in segment}
        new_order = [by_id[v.job_ids[0]] for v in planned.visits]
        after = [s.id for s in new_order]
        if after == before:
            return route, before, after
        old_m = self._length([here, *((s.lat, s.lon) for s in segment), end], vehicle)
        self._apply(route, stops, segment, new_order, planned, end_stop, epoch)
        add_distance(route, vehicle, planned.distance_m - old_m, self.grid * 1000)
        redraw(self.session, route)
        route.tracking_state = carried_state(
            route.tracking_state, [s.id for s in stops], [s.id for s in ordered(route)]
        )
        moved = {s.id: s.position for s in new_order}
        for order in self.orders.repo.get_many([o for s in new_order for o in s.order_ids]):
            self.orders.record_change(
                order, ["stop_position"], via="dispatch", action="replan_route",
                position=moved.get(order.stop_id or ""),
            )  # fmt: skip
        self.session.flush()
        announce_routes(self.session, self.services.broker, [route], "replanned")
        return route, before, after

    def _start(
        self, route: Route, reached: list[RouteStop], vehicle: Vehicle, epoch: datetime
    ) -> tuple[tuple[float, float], float]:
        """Where the vehicle sets off from, and from when (seconds from the epoch)."""
        now_s = (utcnow() - epoch).total_seconds()
        if reached:
            last = reached[-1]
            here, since = (last.lat, last.lon), last.departed_at or last.planned_departure
        else:
            depot, _ = depots_of(self.session, route)
            here, since = (depot.lat, depot.lon), route.starts_at
        fix = self.latest.get_many(route.organization_id, [vehicle.id]).get(vehicle.id)
        if (
            route.status is RouteStatus.in_progress
            and fix is not None
            and fix.t >= max(since, route.starts_at).timestamp()
        ):
            here = (fix.lat, fix.lon)
        return here, max(now_s, (since - epoch).total_seconds())

    def _end(
        self, route: Route, stops: list[RouteStop], end_stop: RouteStop | None
    ) -> tuple[tuple[float, float], datetime]:
        """Where the trip ends, and by when it must get there."""
        if end_stop is not None:
            deadline = end_stop.planned_arrival + timedelta(seconds=end_stop.slack_s)
            return (end_stop.lat, end_stop.lon), deadline
        _, depot = depots_of(self.session, route)
        # The last stop's slack is the room left before the shift ends (the planner's).
        return (depot.lat, depot.lon), route.ends_at + timedelta(seconds=stops[-1].slack_s)

    def _solve(
        self, route: Route, vehicle: Vehicle, segment: list[RouteStop], here: tuple[float, float],
        leave_s: float, end: tuple[float, float], deadline: datetime, epoch: datetime,
        time_limit_s: float,
    ) -> PlannedRoute:  # fmt: skip
        start_s = int(leave_s)
        orders = {
            o.id: o for o in self.orders.repo.get_many([o for s in segment for o in s.order_ids])
        }
        jobs = []
        for stop in segment:
            need = demand(stop, [orders[o] for o in stop.order_ids if o in orders],
                          route.service_date, self.tz)  # fmt: skip
            start, finish = ((t - epoch).total_seconds() for t in need.window)
            windows = (TimeWindow(int(start), int(finish)),) if finish >= start_s else ()
            where = Coordinate(stop.lat, stop.lon)
            jobs.append(
                Job(id=stop.id, location=where, load=need.load,
                    service_s=round(need.service_s), windows=windows)
            )  # fmt: skip
        profile = RoutingProfile(vehicle.routing_profile)
        nodes = (
            PlanReader(self.session, self.principal, self.grid)
            .day(route.service_date, self.tz, route_id=route.id)
            .routes
        )
        speed = StraightLineSpeed(float(nodes.speed_mps[0]) * 3.6, float(nodes.circuity[0]))
        problem = Problem(
            depots=(Depot("here", Coordinate(*here)), Depot("end", Coordinate(*end))),
            vehicle_types=(
                VehicleType(
                    id=vehicle.id, depot_id="here", end_depot_id="end", capacity=ON_BOARD,
                    shift_start_s=start_s,
                    shift_end_s=max(start_s, int((deadline - epoch).total_seconds())),
                    profile=profile, cost_per_km=vehicle.cost_per_km,
                    cost_per_hour=vehicle.cost_per_hour, co2_g_per_km=vehicle.co2_g_per_km,
                    energy_kwh_per_km=vehicle.energy_kwh_per_km,
                ),
            ),
            jobs=tuple(jobs), now_s=start_s, grid_co2_g_per_kwh=self.grid * 1000,
        )  # fmt: skip
        try:
            plan = plan_routes(
                problem, HaversineModel({profile: speed}), time_limit_s=time_limit_s,
                seed=SEED, options=PlanningOptions(merge_stops=False),
            )  # fmt: skip
        except InvalidProblem as exc:
            raise NothingToReplan(f"The rest of the route cannot be re-planned: {exc}.") from exc
        if plan.unassigned or not plan.routes:
            left = ", ".join(f"{u.job_id} ({u.reason.value})" for u in plan.unassigned[:5])
            raise NothingToReplan(
                f"Not every remaining stop fits its window from here: {left}; nothing changed."
            )
        return plan.routes[0]

    def _length(self, points: list[tuple[float, float]], vehicle: Vehicle) -> float:
        return sum(road_m(a, b, vehicle) for a, b in pairwise(points))

    def _apply(
        self, route: Route, stops: list[RouteStop], segment: list[RouteStop],
        new_order: list[RouteStop], planned: PlannedRoute, end_stop: RouteStop | None,
        epoch: datetime,
    ) -> None:  # fmt: skip
        positions = sorted(s.position for s in segment)
        for stop, position, visit in zip(new_order, positions, planned.visits, strict=True):
            stop.position = position
            stop.planned_arrival = epoch + timedelta(seconds=visit.arrival_s)
            stop.planned_departure = epoch + timedelta(seconds=visit.departure_s)
            stop.slack_s = visit.slack_s
        arrive = epoch + timedelta(seconds=planned.end_s)
        if end_stop is None:
            route.ends_at = arrive
            route.duration_s = round((route.ends_at - route.starts_at).total_seconds())
            return
        # Later trips keep their times unless the reload is now reached later (within its
        # slack, which the deadline allowed for): then they move back by as much.
        late = (arrive - end_stop.planned_arrival).total_seconds()
        if late <= 0:
            return
        push = timedelta(seconds=late)
        for stop in stops[stops.index(end_stop) :]:
            stop.planned_arrival += push
            stop.planned_departure += push
            stop.slack_s = max(0, stop.slack_s - round(late))
        route.ends_at += push
        route.duration_s += round(late)

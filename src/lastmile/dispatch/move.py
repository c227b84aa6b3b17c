"""Moving a stop (with all its orders) from one route to another of the same day.

Feasibility is the slots insertion core's (``slots.insertion``) on the target route alone:
the stop's promised window, the slack of every later stop and of the shift end, the load of
the trip it joins and the vehicle's payload limit; driver skills are checked as the planner
does. When the cheapest check fails, it runs again with one constraint lifted at a time to
name the one that bites.

Applying it reuses self-service's route edits (``selfservice.replan.RouteEdit``): the orders
leave their stop (which goes), a new stop is inserted on the target, later target stops are
pushed back by the delay the check allowed for (losing that much slack), positions are
renumbered and both trackers' saved states are carried over. The source keeps its planned
times (the vehicle gets to its later stops earlier; live ETAs show it) while its distance,
CO2 and cost drop by the detour saved.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from lastmile.auth.principal import Principal
from lastmile.dispatch.schemas import MoveCheck, MoveConstraint, MoveRequest
from lastmile.dispatch.stops import (
    StopDemand,
    add_distance,
    announce_routes,
    demand,
    depots_of,
    ordered,
    redraw,
    road_m,
)
from lastmile.fleet.models import Driver, Vehicle, VehicleType
from lastmile.kit.clock import utcnow
from lastmile.kit.errors import Conflict, NotFound
from lastmile.orders.announce import announce_change
from lastmile.orders.models import Order
from lastmile.orders.service import OrderService
from lastmile.orders.status import OrderStatus
from lastmile.organizations.repository import get_organization
from lastmile.planning.assemble import local_midnight
from lastmile.planning.models import Route, RouteStatus, RouteStop, StopStatus
from lastmile.planning.service import RouteService
from lastmile.selfservice.replan import RouteEdit
from lastmile.services import Services
from lastmile.slots.insertion import Insertions, RouteSet, cheapest_insertions
from lastmile.slots.repository import PlanReader
from lastmile.slots.service import Insertion

MOVED_FIELDS = ("route_id", "stop_id", "vehicle_id", "driver_id")
REASONS = {
    MoveConstraint.payload: "the target vehicle's payload limit is below the stop's weight",
    MoveConstraint.capacity: "the target vehicle has no room left for the stop's parcels",
    MoveConstraint.skills: "the target driver lacks a qualification the orders need",
    MoveConstraint.window: "the target vehicle cannot be there within the promised window",
    MoveConstraint.downstream_windows: "later stops of the target would miss their windows",
    MoveConstraint.shift_end: "the target route would end after its shift",
}


class MoveRefused(Conflict):
    slug, title = "move-refused", "The stop cannot move there"


@dataclass
class _Move:
    """A checked move, ready to apply when feasible."""

    check: MoveCheck
    source: Route
    target: Route
    stop: RouteStop
    orders: list[Order]
    demand: StopDemand | None = None
    insertion: Insertion | None = None
    saved_m: float = 0.0


class StopMover:
    """Checks and applies stop moves. Never commits."""

    def __init__(self, session: Session, principal: Principal, services: Services) -> None:
        self.session = session
        self.principal = principal
        self.services = services
        self.routes = RouteService(session, principal)
        self.orders = OrderService(session, principal, services)
        self.grid = services.settings.grid_kg_co2e_per_kwh
        self.tz = ZoneInfo(get_organization(session, principal.organization_id).timezone)

    def check(self, route_id: str, stop_id: str, body: MoveRequest) -> MoveCheck:
        """Whether and at what cost the stop could move; nothing changes."""
        return self._plan(route_id, stop_id, body, lock=False).check

    def move(self, route_id: str, stop_id: str, body: MoveRequest) -> _Move:
        """Move the stop; 409 naming the reason when it cannot."""
        move = self._plan(route_id, stop_id, body, lock=True)
        if not move.check.feasible:
            raise MoveRefused(f"The stop cannot move: {move.check.reason}.")
        self._apply(move)
        return move

    # --- checking ------------------------------------------------------------------------------

    def _plan(self, route_id: str, stop_id: str, body: MoveRequest, *, lock: bool) -> _Move:
        # Lock both routes in id order, so two opposite moves cannot deadlock.
        fetched = {
            wanted: self.routes.get(wanted, for_update=lock)
            for wanted in sorted({route_id, body.to_route_id})
        }
        source, target = fetched[route_id], fetched[body.to_route_id]
        stop = next((s for s in source.stops if s.id == stop_id), None)
        if stop is None:
            raise NotFound(f"No stop {stop_id!r} on route {route_id!r}.")
        orders = self.orders.repo.get_many(stop.order_ids)
        orders.sort(key=lambda o: stop.order_ids.index(o.id))
        move = _Move(self._blank(source, stop, target), source, target, stop, orders)
        refusal = self._state_refusal(source, stop, target)
        if refusal is not None:
            return self._refuse(move, MoveConstraint.state, refusal)
        move.saved_m = self._saved_m(source, stop)
        move.check.saved_km = round(move.saved_m / 1000, 3)
        move.demand = demand(stop, orders, source.service_date, self.tz)
        vehicle = self.session.get(Vehicle, target.vehicle_id)
        assert vehicle is not None
        if vehicle.max_payload_kg is not None and move.demand.load.kg > vehicle.max_payload_kg:
            return self._refuse(move, MoveConstraint.payload)
        if not move.demand.skills <= self._skills(target, vehicle):
            return self._refuse(move, MoveConstraint.skills)
        return self._insert(move, body.position)

    def _blank(self, source: Route, stop: RouteStop, target: Route) -> MoveCheck:
        return MoveCheck(
            feasible=False, reason=None, constraint=None, route_id=source.id, stop_id=stop.id,
            to_route_id=target.id, position=None, after_stop_id=None, before_stop_id=None,
            planned_arrival=None, service_start=None, extra_km=None, extra_minutes=None,
            extra_co2_kg=None, saved_km=0.0, min_slack_minutes=None,
        )  # fmt: skip

    def _refuse(self, move: _Move, constraint: MoveConstraint, reason: str | None = None) -> _Move:
        move.check.constraint = constraint
        move.check.reason = reason or REASONS[constraint]
        return move

    def _state_refusal(self, source: Route, stop: RouteStop, target: Route) -> str | None:
        if source.id == target.id:
            return "the stop is already on that route; re-plan the route to reorder it"
        if source.service_date != target.service_date:
            return "the routes are on different days"
        for route in (source, target):
            if route.status is RouteStatus.completed:
                return f"route {route.id} is completed"
        if stop.kind != "stop":
            return "a reload at a depot cannot move"
        if stop.status is not StopStatus.pending:
            return f"the stop is already {stop.status.value}"
        return None

    def _skills(self, route: Route, vehicle: Vehicle) -> frozenset[str]:
        """A drone has no driver; a vehicle's skills are its driver's (the planner's rule)."""
        if vehicle.type is VehicleType.drone or route.driver_id is None:
            return frozenset()
        driver = self.session.get(Driver, route.driver_id)
        return frozenset(driver.skills) if driver else frozenset()

    def _saved_m(self, source: Route, stop: RouteStop) -> float:
        """The detour the source no longer drives: to the stop and on, less the direct leg."""
        vehicle = self.session.get(Vehicle, source.vehicle_id)
        assert vehicle is not None
        start, end = depots_of(self.session, source)
        points = [(start.lat, start.lon), *((s.lat, s.lon) for s in ordered(source)),
                  (end.lat, end.lon)]  # fmt: skip
        i = 1 + ordered(source).index(stop)
        before, here, after = points[i - 1], points[i], points[i + 1]
        return max(
            0.0,
            road_m(before, here, vehicle) + road_m(here, after, vehicle)
            - road_m(before, after, vehicle),
        )  # fmt: skip

    def _insert(self, move: _Move, position: int | None) -> _Move:
        assert move.demand is not None
        day = move.target.service_date
        plan = PlanReader(self.session, self.principal, self.grid).day(
            day, self.tz, route_id=move.target.id
        )
        routes, nodes = plan.routes, plan.meta[0].stop_ids
        legs = len(nodes) - 1
        if position is not None:
            leg = position - 1
            if leg >= legs:
                return self._refuse(
                    move, MoveConstraint.position,
                    f"the target has {legs - 1} stops; position {position} is past its end",
                )  # fmt: skip
            if not routes.open_leg[0, leg]:
                return self._refuse(
                    move, MoveConstraint.position,
                    f"the vehicle has already driven past position {position}",
                )  # fmt: skip
            only = np.zeros_like(routes.open_leg)
            only[0, leg] = True
            routes = replace(routes, open_leg=routes.open_leg & only)
        elif not routes.open_leg[0, :legs].any():
            return self._refuse(move, MoveConstraint.position, "the target has no leg left")
        epoch = local_midnight(day, self.tz)
        found = self._run(routes, move, epoch)
        if not bool(found.feasible[0, 0]):
            return self._refuse(move, self._diagnose(routes, move, epoch, legs))
        k = int(found.position[0, 0])
        at = epoch + timedelta(seconds=float(found.arrival_s[0, 0]))
        begin = epoch + timedelta(seconds=float(found.service_start_s[0, 0]))
        added = max(0.0, float(found.added_s[0, 0]))
        later_slack = plan.routes.next_slack_s[0, k:legs]
        check = move.check
        check.feasible, check.position = True, k + 1
        check.after_stop_id, check.before_stop_id = nodes[k], nodes[k + 1]
        check.planned_arrival, check.service_start = at, begin
        check.extra_km = round(float(found.detour_m[0, 0]) / 1000, 3)
        check.extra_minutes = round(added / 60, 1)
        check.extra_co2_kg = round(float(found.co2_g[0, 0]) / 1000, 3)
        check.min_slack_minutes = round(float(later_slack.min() - added) / 60, 1)
        move.insertion = Insertion(
            route_id=move.target.id, after_stop_id=nodes[k], before_stop_id=nodes[k + 1],
            arrival=at, service_start=begin, detour_m=float(found.detour_m[0, 0]),
            added_s=added, co2_g=float(found.co2_g[0, 0]),
        )  # fmt: skip
        return move

    def _run(
        self, routes: RouteSet, move: _Move, epoch: datetime, *, window: bool = True
    ) -> Insertions:
        assert move.demand is not None
        start, end = move.demand.window
        bounds = ((start - epoch).total_seconds(), (end - epoch).total_seconds())
        if not window:
            bounds = (-1e9, 1e9)
        return cheapest_insertions(
            routes, move.stop.lat, move.stop.lon, service_s=move.demand.service_s,
            load=move.demand.load, window_start_s=[bounds[0]], window_end_s=[bounds[1]],
            now_s=(utcnow() - epoch).total_seconds(),
        )  # fmt: skip

    def _diagnose(
        self, routes: RouteSet, move: _Move, epoch: datetime, legs: int
    ) -> MoveConstraint:
        """The constraint that bites: lift capacity, then the window, then the shift end."""
        roomy = replace(routes, capacity=np.full_like(routes.capacity, np.inf))
        if self._run(roomy, move, epoch).feasible[0, 0]:
            return MoveConstraint.capacity
        if self._run(roomy, move, epoch, window=False).feasible[0, 0]:
            return MoveConstraint.window
        slack = roomy.next_slack_s.copy()
        slack[0, legs - 1] = np.inf  # the end depot's: the room left before the shift ends
        if self._run(replace(roomy, next_slack_s=slack), move, epoch, window=False).feasible[0, 0]:
            return MoveConstraint.shift_end
        return MoveConstraint.downstream_windows

    # --- applying ------------------------------------------------------------------------------

    def _apply(self, move: _Move) -> None:
        assert move.insertion is not None
        assert move.demand is not None
        source, target, orders = move.source, move.target, move.orders
        source_edit, target_edit = RouteEdit(source), RouteEdit(target)
        for order in orders:
            source_edit.take_out(order)
        first, *others = orders
        new_stop = target_edit.insert(
            first, move.insertion, move.stop.lat, move.stop.lon,
            service_s=move.demand.service_s, window_end=move.demand.window[1],
        )  # fmt: skip
        for order in others:
            target_edit.join(order, new_stop)
        target_edit.finish()
        source_edit.finish()
        source_vehicle = self.session.get(Vehicle, source.vehicle_id)
        target_vehicle = self.session.get(Vehicle, target.vehicle_id)
        assert source_vehicle is not None
        assert target_vehicle is not None
        add_distance(source, source_vehicle, -move.saved_m, self.grid * 1000)
        # RouteEdit grew the target's distance and CO2 by the detour; its cost follows here.
        target.cost += (
            move.insertion.detour_m / 1000 * target_vehicle.cost_per_km
            + move.insertion.added_s / 3600 * target_vehicle.cost_per_hour
        )
        for route in (source, target):
            redraw(self.session, route)
        started = target.status is RouteStatus.in_progress
        for order in orders:
            if started:
                self.orders.follow(
                    order, OrderStatus.out_for_delivery, "moved to a route under way"
                )
            self.orders.record_change(
                order, MOVED_FIELDS, via="dispatch", action="move_stop",
                from_route_id=source.id, to_route_id=target.id,
            )  # fmt: skip
            announce_change(
                self.session, self.services.broker, order, MOVED_FIELDS, via="dispatch",
                routes=[source.id, target.id],
            )  # fmt: skip
        self.session.flush()
        move.stop = new_stop
        announce_routes(
            self.session, self.services.broker, [source, target], "stop_moved",
            stop_id=new_stop.id, from_route_id=source.id, to_route_id=target.id,
        )  # fmt: skip

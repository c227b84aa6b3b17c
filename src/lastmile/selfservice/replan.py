"""Editing committed routes when an order's stop moves: out of its stop, into a new one.

The insertion check (``slots.insertion``) decides *where* a visit fits; this module carries it
out on the stored route so it stays consistent: positions stay contiguous, stops after the new
one are pushed back by the delay the check allowed for (and lose that much slack), the route's
totals grow by the detour, and the live tracker's saved state is carried over to the new stop
list instead of being thrown away mid-route.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from lastmile.eta.track import StopTrack, track_state
from lastmile.kit.ids import new_id
from lastmile.orders.models import Order
from lastmile.planning.models import Route, RouteStop, StopStatus
from lastmile.routing.geo import great_circle_m
from lastmile.slots.service import Insertion

# A stop this close to where the parcel must go already goes there (a locker's own stop).
SAME_PLACE_M = 15.0


def _stops(route: Route) -> list[RouteStop]:
    return sorted(route.stops, key=lambda s: s.position)


class RouteEdit:
    """Changes to one route's stops, finished by :meth:`finish` (positions, tracker state)."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self._before = [s.id for s in _stops(route)]
        self._base = min((s.position for s in route.stops), default=0)
        self._pushes: list[tuple[RouteStop, list[RouteStop], Insertion]] = []
        session = object_session(route)
        assert session is not None, "a route loaded in a unit of work"
        self._session = session

    def take_out(self, order: Order) -> None:
        """Remove the order from its stop; a stop left with no order goes."""
        stop = next((s for s in self.route.stops if s.id == order.stop_id), None)
        order.route_id = order.stop_id = order.driver_id = order.vehicle_id = None
        # The order's reference to the stop has no ORM relationship to order the writes by:
        # write it before the stop may go.
        self._session.flush()
        if stop is not None:
            stop.order_ids = [o for o in stop.order_ids if o != order.id]
            if not stop.order_ids:
                self.route.stops.remove(stop)

    def join(self, order: Order, stop: RouteStop) -> None:
        """Serve the order at an existing stop of this route."""
        stop.order_ids = [*stop.order_ids, order.id]
        self._assign(order, stop)

    def insert(
        self, order: Order, insertion: Insertion, lat: float, lon: float, *, service_s: float,
        window_end: datetime,
    ) -> RouteStop:  # fmt: skip
        """A new stop for the order where ``insertion`` found room.

        The stops after it are pushed back (and the route's totals grow) only in
        :meth:`finish`: until then the route still reads as the insertion check saw it, so a
        second check of the same change (the slot booking's) agrees with the first.
        """
        stops = _stops(self.route)
        by_id = {s.id: s for s in stops}
        after = by_id.get(insertion.after_stop_id or "")
        before = by_id.get(insertion.before_stop_id or "")
        if after is not None:
            position = after.position + 1
        elif before is not None:
            position = before.position
        else:
            position = self._base
        later = [s for s in stops if s.position >= position]
        for s in later:
            s.position += 1
        start = insertion.service_start
        stop = RouteStop(
            id=new_id("stp"), organization_id=self.route.organization_id, route_id=self.route.id,
            position=position, kind="stop", lat=lat, lon=lon, planned_arrival=start,
            planned_departure=start + timedelta(seconds=service_s),
            slack_s=max(0, round((window_end - start).total_seconds())),
            order_ids=[order.id], status=StopStatus.pending,
        )  # fmt: skip
        self.route.stops.append(stop)
        self._session.flush()  # the stop exists before the order names it
        self._pushes.append((stop, later, insertion))
        self._assign(order, stop)
        return stop

    def _assign(self, order: Order, stop: RouteStop) -> None:
        order.route_id, order.stop_id = self.route.id, stop.id
        order.driver_id, order.vehicle_id = self.route.driver_id, self.route.vehicle_id

    def finish(self) -> None:
        """Push later stops back, renumber from the route's first position and carry the
        tracker's state over to the new stop list."""
        for stop, later, insertion in self._pushes:
            added = timedelta(seconds=max(0.0, insertion.added_s))
            lost = round(added.total_seconds())
            for s in later:
                s.planned_arrival += added
                s.planned_departure += added
                s.slack_s = max(0, s.slack_s - lost)
            if later:
                stop.slack_s = min(stop.slack_s, later[0].slack_s)
            route = self.route
            route.ends_at += added
            route.duration_s += lost
            route.distance_m += round(insertion.detour_m)
            route.co2_g += insertion.co2_g
        self._pushes.clear()
        stops = _stops(self.route)
        for i, stop in enumerate(stops):
            stop.position = self._base + i
        self.route.tracking_state = carried_state(
            self.route.tracking_state, self._before, [s.id for s in stops]
        )


def carried_state(
    state: dict[str, Any] | None, before: list[str], after: list[str]
) -> dict[str, Any] | None:
    """A saved RouteTracker state for the route's new stop list.

    Stops kept keep their bookkeeping, new ones start unreached, and the cursor (the planned
    index after the last stop reached) follows that stop to its new index. Only stops not yet
    reached are ever added or removed, so everything the tracker saw survives. None when the
    state cannot be carried: the tracker then starts afresh, as it would anyway.
    """
    if state is None:
        return None
    try:
        tracks = state["stops"]
        cursor = int(state["cursor"])
        reached = before[cursor - 1] if cursor > 0 else None
        if reached is not None and reached not in after:
            return None
        fresh = track_state(StopTrack())
        return {
            **state,
            "stops": {stop_id: tracks.get(stop_id, fresh) for stop_id in after},
            "cursor": 0 if reached is None else after.index(reached) + 1,
        }
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def at_place(stop: RouteStop, lat: float, lon: float) -> bool:
    """Whether the stop is where (lat, lon) is."""
    return great_circle_m(stop.lat, stop.lon, lat, lon) <= SAME_PLACE_M


def place_stop(route: Route, lat: float, lon: float) -> RouteStop | None:
    """A delivery stop of the route, not reached yet, that already goes to (lat, lon)."""
    return next(
        (
            s for s in _stops(route)
            if s.kind == "stop" and s.status is StopStatus.pending and at_place(s, lat, lon)
        ),
        None,
    )  # fmt: skip


def route_of(session: Session, order: Order, route_id: str | None = None) -> Route | None:
    """The order's route (or ``route_id``) in the order's organization."""
    wanted = route_id or order.route_id
    if wanted is None:
        return None
    return session.scalar(
        select(Route).where(Route.id == wanted, Route.organization_id == order.organization_id)
    )

"""Runs accepted fixes through each route's tracker (geofences, ETAs) and applies the outcome.

Ingest hands fixes over after its commit; a worker thread coalesces them per vehicle (the
debounce) and processes each batch in its own unit of work: stop states and ETA windows are
written, orders follow their stop (out for delivery, arriving), the tracker's state is saved
on the route so any process can resume it, and live events go out once committed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lastmile.auth.principal import Access, Principal
from lastmile.db.engine import Database, after_commit
from lastmile.eta import (
    Arrived,
    AtRisk,
    Departed,
    EtaChanged,
    Fix,
    FleetLearning,
    RouteTracker,
    StopEta,
    StopPlan,
    TrackingConfig,
    TrackingEvent,
)
from lastmile.fleet.models import Depot
from lastmile.kit.clock import utcnow
from lastmile.kit.errors import Conflict, NotFound
from lastmile.live.broker import Broker
from lastmile.live.channels import fleet_channel, order_channel
from lastmile.live.events import LiveEvent
from lastmile.live.latest import LatestPositions
from lastmile.notifications.progress import on_route_progress
from lastmile.orders.models import Order
from lastmile.orders.service import OrderService
from lastmile.orders.status import OrderStatus
from lastmile.planning.models import ACTIVE_ROUTE, Route, RouteStatus, RouteStop, StopStatus
from lastmile.planning.service import RouteService
from lastmile.services import Services
from lastmile.tracking.fixes import IncomingFix
from lastmile.tracking.view import (
    driver_visible,
    eta_payload,
    iso,
    stops_before,
)

log = logging.getLogger(__name__)

# A vehicle's fixes belong to the route whose day they fall in, with this much margin for
# early starts and late returns.
ROUTE_MARGIN = timedelta(hours=3)
STATUS_OF_STOP = {"arriving": StopStatus.arriving, "arrived": StopStatus.arrived,
                  "departed": StopStatus.departed}  # fmt: skip


def _ts(moment: datetime) -> float:
    return moment.timestamp()


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass
class _Outbox:
    """Live events collected while processing, published once the transaction commits."""

    items: list[tuple[str, LiveEvent]] = field(default_factory=list)

    def add(self, channel: str, kind: str, data: dict[str, Any]) -> None:
        self.items.append((channel, LiveEvent(kind, data)))


class TrackingProcessor:
    """Feeds fixes to route trackers; one instance per server process."""

    def __init__(
        self,
        db: Database,
        services: Services,
        broker: Broker,
        latest: LatestPositions,
        *,
        inline: bool = False,
        debounce_s: float = 1.0,
        config: TrackingConfig | None = None,
    ) -> None:
        self.db = db
        self.services = services
        self.broker = broker
        self.latest = latest
        self.inline = inline
        self.debounce_s = debounce_s
        self.config = config or TrackingConfig()
        self._learning: dict[str, FleetLearning] = {}
        self._pending: dict[tuple[str, str], list[IncomingFix]] = defaultdict(list)
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        # Trackers share their organisation's FleetLearning, which is not thread-safe: every
        # pure tracker call holds this lock (never across database I/O, so no deadlock with
        # a request's transaction).
        self.compute_lock = threading.RLock()

    # -- intake -------------------------------------------------------------------------

    def submit(self, organization_id: str, vehicle_id: str, fixes: list[IncomingFix]) -> None:
        """Queue a vehicle's accepted fixes (the ingest's sink)."""
        if self.inline:
            self._process(organization_id, vehicle_id, fixes)
            return
        with self._lock:
            self._pending[(organization_id, vehicle_id)].extend(fixes)
            self._lock.notify()

    def start(self) -> None:
        if self.inline or self._thread is not None:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="tracking", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.drain()

    def drain(self) -> None:
        """Process everything queued now (shutdown, tests)."""
        with self._lock:
            pending, self._pending = self._pending, defaultdict(list)
        if not pending:
            return
        # One read for the whole batch: most reporting vehicles may have no route to track,
        # and a writing unit of work each just to find that out would cost the ingest dearly.
        on_route = self._vehicles_on_route({vehicle for _, vehicle in pending})
        for (organization_id, vehicle_id), fixes in pending.items():
            if vehicle_id not in on_route:
                continue
            try:
                self._process(organization_id, vehicle_id, fixes)
            except Exception:  # one vehicle's bad batch must not stop tracking the others
                if self.inline:
                    raise
                log.exception("tracking vehicle %s failed", vehicle_id)

    def _vehicles_on_route(self, vehicle_ids: set[str]) -> set[str]:
        with self.db.unit_of_work(readonly=True) as session:
            rows = session.scalars(
                select(Route.vehicle_id)
                .where(Route.vehicle_id.in_(vehicle_ids), Route.status.in_(ACTIVE_ROUTE))
                .distinct()
            )
            return set(rows)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._stopping:
                    self._lock.wait()
                if self._stopping:
                    return
            # Let a burst of reports gather: one tracker pass per vehicle, not per request.
            time.sleep(self.debounce_s)
            self.drain()

    # -- processing -----------------------------------------------------------------------

    def learning(self, organization_id: str) -> FleetLearning:
        """The organisation's shared learning. Kept in memory per process: after a restart
        windows start again from the prior (route trackers themselves resume from the DB)."""
        with self.compute_lock:
            if organization_id not in self._learning:
                self._learning[organization_id] = FleetLearning()
            return self._learning[organization_id]

    def _process(self, organization_id: str, vehicle_id: str, fixes: list[IncomingFix]) -> None:
        if not fixes:
            return
        fixes = sorted(fixes, key=lambda f: f.t)
        outbox = _Outbox()
        with self.db.unit_of_work() as session:
            route = self._route_for(session, organization_id, vehicle_id, fixes[-1].t)
            if route is None:
                return
            run = _RouteRun(self, session, route, outbox)
            for fix in fixes:
                run.observe(fix)
            run.finish()
            after_commit(session, lambda: self.broker.publish_many(outbox.items))

    def confirm(
        self,
        session: Session,
        principal: Principal,
        route_id: str,
        stop_id: str,
        what: str,
        at: datetime | None,
    ) -> RouteStop:
        """The driver (or a dispatcher) confirms arrival at or departure from a stop by hand,
        inside the caller's unit of work."""
        route = RouteService(session, principal).get(route_id, for_update=True)
        if route.status not in ACTIVE_ROUTE:
            raise Conflict(f"The route is {route.status.value}; nothing to confirm.")
        if not any(s.id == stop_id for s in route.stops):
            raise NotFound(f"No stop {stop_id!r} on route {route_id!r}.")
        outbox = _Outbox()
        run = _RouteRun(self, session, route, outbox)
        stop = run.confirm(stop_id, what, _ts(at or utcnow()))
        run.finish()
        after_commit(session, lambda: self.broker.publish_many(outbox.items))
        return stop

    def start_route(
        self, session: Session, principal: Principal, route_id: str, at: datetime | None
    ) -> Route:
        """The driver starts the route by hand (start of shift), inside the caller's unit of
        work: what the route's first fix does. A route already under way is left as it is."""
        route = RouteService(session, principal).get(route_id, for_update=True)
        if route.status is RouteStatus.completed:
            raise Conflict("The route is completed; it cannot start again.")
        if route.status is RouteStatus.in_progress:
            return route
        outbox = _Outbox()
        run = _RouteRun(self, session, route, outbox)
        run._start_route(at or utcnow())
        run.finish()
        after_commit(session, lambda: self.broker.publish_many(outbox.items))
        return route

    def _route_for(
        self, session: Session, organization_id: str, vehicle_id: str, at: datetime
    ) -> Route | None:
        routes = session.scalars(
            select(Route)
            .where(
                Route.organization_id == organization_id,
                Route.vehicle_id == vehicle_id,
                Route.status.in_(ACTIVE_ROUTE),
                Route.starts_at <= at + ROUTE_MARGIN,
                Route.ends_at >= at - ROUTE_MARGIN,
            )
            # One tracker pass per route at a time, across server processes (PostgreSQL).
            .with_for_update()
        ).all()
        if not routes:
            return None
        return min(routes, key=lambda r: abs((r.starts_at - at).total_seconds()))


def _promised(orders: Sequence[Order]) -> tuple[float | None, float | None]:
    """The window every order at a stop was promised: the tightest end, the latest start."""
    starts = [min(w.starts_at for w in o.windows) for o in orders if o.windows]
    ends = [min(w.ends_at for w in o.windows) for o in orders if o.windows]
    return (_ts(max(starts)) if starts else None, _ts(min(ends)) if ends else None)


def stop_plans(
    route: Route, stops: Sequence[RouteStop], orders: dict[str, Order]
) -> list[StopPlan]:
    """The tracker's view of a committed route: planned times, legs, methods and promises."""
    plans: list[StopPlan] = []
    previous_departure = route.starts_at
    for stop in stops:
        at_stop = [orders[o] for o in stop.order_ids if o in orders]
        start, end = _promised(at_stop)
        method = at_stop[0].delivery_method.value if at_stop else "depot"
        travel = max(0.0, (stop.planned_arrival - previous_departure).total_seconds())
        plans.append(
            StopPlan(
                stop_id=stop.id, lat=stop.lat, lon=stop.lon,
                planned_arrival=_ts(stop.planned_arrival),
                planned_departure=_ts(stop.planned_departure),
                travel_s=travel, method=method, promised_start=start, promised_end=end,
                not_before=start,
            )
        )  # fmt: skip
        previous_departure = stop.planned_departure
    return plans


class _RouteRun:
    """One pass of a route's tracker inside a unit of work."""

    def __init__(
        self, processor: TrackingProcessor, session: Session, route: Route, outbox: _Outbox
    ) -> None:
        self.processor = processor
        self.session = session
        self.route = route
        self.outbox = outbox
        self.stops = list(route.stops)
        self.by_id = {s.id: s for s in self.stops}
        order_ids = [o for s in self.stops for o in s.order_ids]
        self.orders = {
            o.id: o
            for o in session.scalars(
                select(Order).where(
                    Order.organization_id == route.organization_id, Order.id.in_(order_ids)
                )
            )
        }
        self.order_service = OrderService(
            session,
            Principal(route.organization_id, Access.admin, system="tracking"),
            processor.services,
        )
        plans = stop_plans(route, self.stops, self.orders)
        learning = processor.learning(route.organization_id)
        resumed = self._resume(route, plans, learning) if route.tracking_state else None
        if resumed is None:
            depot = session.get(Depot, route.start_depot_id)
            start = (depot.lat, depot.lon) if depot else None
            resumed = RouteTracker(route.id, plans, learning, processor.config, start=start)
        self.tracker: RouteTracker = resumed
        self.before = {s.id: stops_before(self.stops, s) for s in self.stops}
        self.visible = self._visibility()
        self.last_fix: Fix | None = None
        self.eta_dirty = False
        # Stops whose window left their promise in this pass (customers are told once).
        self.late_stops: set[str] = set()

    def _resume(
        self, route: Route, plans: list[StopPlan], learning: FleetLearning
    ) -> RouteTracker | None:
        assert route.tracking_state is not None
        try:
            return RouteTracker.from_state(
                route.id, plans, learning, route.tracking_state, self.processor.config
            )
        except (ValueError, KeyError, TypeError):
            # The route's stops changed since the state was saved (or it is from an older
            # release): track it afresh rather than stop tracking it.
            log.warning("tracking state of route %s no longer fits; starting afresh", route.id)
            return None

    def _visibility(self) -> dict[str, bool]:
        """Per order of the route: may its customer see the driver now?"""
        return {
            order_id: driver_visible(self.route, self.stops, stop, self.orders[order_id])
            for stop in self.stops
            for order_id in stop.order_ids
            if order_id in self.orders
        }

    def observe(self, incoming: IncomingFix) -> None:
        fix = Fix(
            t=_ts(incoming.t), lat=incoming.lat, lon=incoming.lon,
            accuracy_m=incoming.accuracy_m, speed_mps=incoming.speed_mps,
            heading_deg=incoming.heading_deg,
        )  # fmt: skip
        self.last_fix = fix
        self._start_route(incoming.t)
        with self.processor.compute_lock:
            events = self.tracker.observe(fix)
        self._apply(events)
        self.route.last_fix_at = incoming.t

    def confirm(self, stop_id: str, what: str, t: float) -> RouteStop:
        self._start_route(_dt(t))
        if what == "arrival":
            with self.processor.compute_lock:
                events = self.tracker.confirm_arrival(stop_id, t)
        else:
            with self.processor.compute_lock:
                events = self.tracker.confirm_departure(stop_id, t)
        self._apply(events)
        return self.by_id[stop_id]

    def _start_route(self, at: datetime) -> None:
        if self.route.status is not RouteStatus.dispatched:
            return
        self.route.status = RouteStatus.in_progress
        for order in self.orders.values():
            self.order_service.follow(order, OrderStatus.out_for_delivery, "route started")
        self.outbox.add(
            fleet_channel(self.route.organization_id),
            "route",
            {"route_id": self.route.id, "status": self.route.status.value, "at": iso(at)},
        )

    def _apply(self, events: Sequence[TrackingEvent]) -> None:
        for event in events:
            stop = self.by_id.get(event.stop_id)
            if stop is None:
                continue
            if isinstance(event, EtaChanged | AtRisk):
                self.eta_dirty = True
                self._announce(stop, event)
                if isinstance(event, AtRisk) and event.at_risk:
                    self.late_stops.add(stop.id)
                continue
            status = STATUS_OF_STOP.get(event.kind)
            if status is None:
                continue
            stop.status = status
            if isinstance(event, Arrived):
                stop.arrived_at = _dt(event.arrived_at)
            if isinstance(event, Departed):
                stop.departed_at = _dt(event.departed_at)
            for order_id in stop.order_ids if status is StopStatus.arrived else ():
                order = self.orders.get(order_id)
                if order is not None:
                    self.order_service.follow(order, OrderStatus.arriving, "stop arrived")
            self.outbox.add(
                fleet_channel(self.route.organization_id),
                "stop",
                {
                    "route_id": self.route.id, "stop_id": stop.id, "status": status.value,
                    "at": iso(_dt(event.t)), "order_ids": list(stop.order_ids),
                },
            )  # fmt: skip
            self.eta_dirty = True

    def _announce(self, stop: RouteStop, event: EtaChanged | AtRisk) -> None:
        """Tell dispatchers (and, for #5's notifications, anyone listening on the fleet
        channel) that a stop's window moved or stopped fitting its promise."""
        data: dict[str, Any] = {
            "route_id": self.route.id, "stop_id": stop.id, "order_ids": list(stop.order_ids),
            "at": iso(_dt(event.t)),
        }  # fmt: skip
        if isinstance(event, AtRisk):
            data |= {"at_risk": event.at_risk, "latest": iso(_dt(event.latest)),
                     "promised_end": iso(_dt(event.promised_end))}  # fmt: skip
        else:
            data |= {"expected": iso(_dt(event.expected)), "earliest": iso(_dt(event.earliest)),
                     "latest": iso(_dt(event.latest))}  # fmt: skip
        self.outbox.add(fleet_channel(self.route.organization_id), event.kind, data)

    def finish(self) -> None:
        """Write ETAs and states, then queue what each audience may see."""
        org = self.route.organization_id
        if self.eta_dirty or self.route.tracking_state is None:
            with self.processor.compute_lock:
                etas: dict[str, StopEta] = {e.stop_id: e for e in self.tracker.etas()}
            for stop in self.stops:
                eta = etas.get(stop.id)
                if eta is None:
                    continue
                stop.eta_expected = _dt(eta.expected)
                stop.eta_earliest = _dt(eta.earliest)
                stop.eta_latest = _dt(eta.latest)
                stop.at_risk = eta.at_risk
            self.outbox.add(
                fleet_channel(org),
                "eta",
                {
                    "route_id": self.route.id,
                    "stops": [
                        {
                            "stop_id": e.stop_id,
                            "expected": iso(_dt(e.expected)),
                            "earliest": iso(_dt(e.earliest)),
                            "latest": iso(_dt(e.latest)),
                            "at_risk": e.at_risk,
                        }
                        for e in etas.values()
                    ],
                },
            )
            now = _dt(self.last_fix.t) if self.last_fix is not None else utcnow()
            on_route_progress(self.session, self.processor.services.settings, self.stops,
                              self.orders, now, self.late_stops)  # fmt: skip
        with self.processor.compute_lock:
            self.route.tracking_state = self.tracker.to_state()
        self._heading_to_next_stop()
        visible_now = self._visibility()
        for stop in self.stops:
            before = stops_before(self.stops, stop)
            for order_id in stop.order_ids:
                order = self.orders.get(order_id)
                if order is None:
                    continue
                changed = before != self.before.get(stop.id) or self.eta_dirty
                if changed:
                    payload = eta_payload(stop, before)
                    if payload is not None:
                        self.outbox.add(order_channel(order_id), "eta", payload)
                visible = visible_now[order_id]
                if visible != self.visible.get(order_id, False):
                    self.outbox.add(order_channel(order_id), "visibility", {"driver": visible})
                if visible and self.last_fix is not None:
                    fix = self.last_fix
                    self.outbox.add(
                        order_channel(order_id),
                        "position",
                        {"lat": fix.lat, "lon": fix.lon, "heading": fix.heading_deg,
                         "at": iso(_dt(fix.t))},
                    )  # fmt: skip
        self._complete_if_done()
        self.session.flush()

    def _heading_to_next_stop(self) -> None:
        """Orders of the stop the driver now heads to (every earlier stop done) are
        "arriving": the customer is told, and sees the driver, from this moment on."""
        if self.route.status is not RouteStatus.in_progress:
            return
        for stop in self.stops:
            if stop.kind != "stop" or stop.status is StopStatus.departed:
                continue
            if stops_before(self.stops, stop) == 0:
                for order_id in stop.order_ids:
                    order = self.orders.get(order_id)
                    if order is not None:
                        self.order_service.follow(order, OrderStatus.arriving, "next stop")

    def _complete_if_done(self) -> None:
        """A route whose every delivery stop is left is completed (live trackers stop)."""
        deliveries = [s for s in self.stops if s.kind == "stop"]
        if self.route.status is RouteStatus.in_progress and all(
            s.status is StopStatus.departed for s in deliveries
        ):
            self.route.status = RouteStatus.completed
            self.outbox.add(
                fleet_channel(self.route.organization_id),
                "route",
                {"route_id": self.route.id, "status": RouteStatus.completed.value,
                 "at": iso(utcnow())},
            )  # fmt: skip

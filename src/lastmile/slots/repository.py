"""All SQL of slots: policy, counters and bookings, and the day's plan as insertion arrays."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lastmile.auth.principal import Principal
from lastmile.customers.models import Address
from lastmile.db.repository import TenantRepository
from lastmile.fleet.models import Depot, Shift, Vehicle, VehicleType
from lastmile.fleet.repository import DepotRepository, ShiftRepository, VehicleRepository
from lastmile.kit.ids import new_id
from lastmile.orders.models import Order, Parcel
from lastmile.orders.repository import OrderRepository
from lastmile.orders.status import OrderStatus
from lastmile.planning.assemble import DRONE_HOURS, local_midnight
from lastmile.planning.models import ACTIVE_ROUTE, Route, RouteStop, StopStatus
from lastmile.routing import problem as rp
from lastmile.routing.emissions import route_co2_g
from lastmile.routing.profiles import RoutingProfile
from lastmile.slots.insertion import RouteNodes, RouteSet
from lastmile.slots.models import SlotBooking, SlotCounter, SlotPolicy

# Orders a day already has in the pool: what makes an unplanned day "green" nearby.
POOLED = (OrderStatus.created, OrderStatus.planned, OrderStatus.rescheduled)


def co2_g_per_km(vehicle: Vehicle, grid_g_per_kwh: float) -> float:
    """Grams CO2e per kilometre ``vehicle`` drives, by the routing core's emission method."""
    factors = rp.VehicleType(
        id=vehicle.id, depot_id=vehicle.home_depot_id, capacity=rp.Load(), shift_start_s=0,
        shift_end_s=0, co2_g_per_km=vehicle.co2_g_per_km,
        energy_kwh_per_km=vehicle.energy_kwh_per_km,
    )  # fmt: skip
    return route_co2_g(factors, 1000, grid_g_per_kwh)


class SlotPolicyRepository(TenantRepository[SlotPolicy]):
    model = SlotPolicy

    def current(self) -> SlotPolicy | None:
        return self.session.scalars(self.scoped()).first()


class SlotCounterRepository(TenantRepository[SlotCounter]):
    model = SlotCounter

    def booked_between(
        self, area_id: str, start: datetime, end: datetime
    ) -> dict[datetime, tuple[str, int]]:
        """``starts_at -> (counter id, places booked)`` of the area's windows in a period."""
        stmt = self.scoped().where(
            SlotCounter.area_id == area_id,
            SlotCounter.starts_at >= start,
            SlotCounter.starts_at < end,
        )
        return {c.starts_at: (c.id, c.booked) for c in self.session.scalars(stmt)}

    def ensure(self, area_id: str, starts_at: datetime, ends_at: datetime, capacity: int) -> str:
        """The window's counter id, creating it if needed (race-free on both databases)."""
        values = {
            "id": new_id("sct"),
            "organization_id": self.scope.organization_id,
            "area_id": area_id,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "booked": 0,
            "capacity": capacity,
        }
        keys = ["organization_id", "area_id", "starts_at"]
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self.session.execute(
            insert(SlotCounter).values(**values).on_conflict_do_nothing(index_elements=keys)
        )
        found = self.session.scalar(
            self.scoped()
            .with_only_columns(SlotCounter.id)
            .where(SlotCounter.area_id == area_id, SlotCounter.starts_at == starts_at)
        )
        assert found is not None
        return found

    def take(self, counter_id: str, capacity: int) -> bool:
        """Take one place if one is left under ``capacity``; False when the window is full.

        One conditional UPDATE: the database re-checks ``booked < capacity`` on the row it
        locks, so two requests for the last place cannot both succeed.
        """
        result = self.session.execute(
            update(SlotCounter)
            .where(
                SlotCounter.id == counter_id,
                SlotCounter.organization_id == self.scope.organization_id,
                SlotCounter.booked < capacity,
            )
            .values(booked=SlotCounter.booked + 1, capacity=capacity)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    def give_back(self, counter_id: str) -> None:
        self.session.execute(
            update(SlotCounter)
            .where(
                SlotCounter.id == counter_id,
                SlotCounter.organization_id == self.scope.organization_id,
                SlotCounter.booked > 0,
            )
            .values(booked=SlotCounter.booked - 1)
            .execution_options(synchronize_session=False)
        )


class SlotBookingRepository(TenantRepository[SlotBooking]):
    model = SlotBooking

    def for_order(self, order_id: str) -> SlotBooking | None:
        return self.session.scalars(self.scoped().where(SlotBooking.order_id == order_id)).first()

    def release(self, order_id: str) -> None:
        """Give back the place ``order_id`` holds, if any (its window stays as it is)."""
        booking = self.for_order(order_id)
        if booking is None:
            return
        SlotCounterRepository(self.session, self.scope).give_back(booking.counter_id)
        self.delete(booking)


@dataclass(frozen=True, slots=True)
class RouteMeta:
    """What the service maps insertion positions back to: the stops of each route."""

    route_id: str
    stop_ids: tuple[str | None, ...]  # per node: None for the depots


@dataclass(frozen=True, slots=True)
class DayPlan:
    """A day's committed routes that can still take work, and their stops by node."""

    routes: RouteSet
    meta: tuple[RouteMeta, ...]


class _Routes(TenantRepository[Route]):
    model = Route


class _Stops(TenantRepository[RouteStop]):
    model = RouteStop


class _DayCache:
    """The last few days read, with the fingerprint they were read at (thread-safe)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.entries: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], DayPlan]] = OrderedDict()

    def get(self, key: tuple[Any, ...], mark: tuple[Any, ...]) -> DayPlan | None:
        with self.lock:
            found = self.entries.get(key)
            if found is None or found[0] != mark:
                return None
            self.entries.move_to_end(key)
            return found[1]

    def put(self, key: tuple[Any, ...], mark: tuple[Any, ...], plan: DayPlan) -> None:
        with self.lock:
            self.entries[key] = (mark, plan)
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


_DAY_CACHE = _DayCache(size=32)


class PlanReader:
    """Reads committed routes and pooled orders as plain columns (no ORM objects: a day has
    thousands of stops and a quote must stay well under 300 ms)."""

    def __init__(self, session: Session, scope: Principal, grid_kg_co2e_per_kwh: float) -> None:
        self.session = session
        self.scope = scope
        self.grid_g_per_kwh = grid_kg_co2e_per_kwh * 1000

    def day(
        self,
        service_date: date,
        tz: ZoneInfo,
        *,
        exclude_order_id: str | None = None,
        route_id: str | None = None,
    ) -> DayPlan:
        """The committed routes of ``service_date``; times in seconds from local midnight.

        ``exclude_order_id``'s own delivery is taken out first (its stop, when it serves it
        alone, and its load), so an order is checked against the plan without itself.

        Whole days (no exclusion, no single route) are cached per process and reused while
        :meth:`fingerprint` is unchanged: a quote reads a day's thousands of stops once, not
        on every request.
        """
        if exclude_order_id is not None or route_id is not None:
            return self._read_day(service_date, tz, exclude_order_id, route_id)
        key = (self.scope.organization_id, service_date, tz.key)
        mark = self.fingerprint(service_date)
        cached = _DAY_CACHE.get(key, mark)
        if cached is None:
            cached = self._read_day(service_date, tz, None, None)
            _DAY_CACHE.put(key, mark, cached)
        return cached

    def days_with_routes(self, days: Sequence[date]) -> set[date]:
        """Which of ``days`` have committed routes (finished ones included)."""
        stmt = (
            _Routes(self.session, self.scope)
            .scoped()
            .with_only_columns(Route.service_date)
            .where(Route.service_date.in_(days))
            .distinct()
        )
        return set(self.session.scalars(stmt))

    def fingerprint(self, service_date: date) -> tuple[Any, ...]:
        """Changes whenever anything the day's insertion arrays are built from changes: the
        routes (status, times), their stops (times, slack, progress) and the orders on them
        (parcels, moves)."""
        org = self.scope.organization_id
        routes = (
            select(Route.id)
            .where(Route.organization_id == org, Route.service_date == service_date)
            .scalar_subquery()
        )
        # Not the routes' updated_at: the tracker touches it with every fix, and nothing it
        # writes there (position, ETAs) goes into the insertion arrays.
        route_row = self.session.execute(
            select(
                func.count(Route.id), func.min(Route.status), func.max(Route.status),
                func.max(Route.starts_at), func.max(Route.ends_at),
            ).where(Route.organization_id == org, Route.service_date == service_date)
        ).one()  # fmt: skip
        if not route_row[0]:
            return tuple(route_row)
        stop_row = self.session.execute(
            select(
                func.count(RouteStop.id), func.sum(RouteStop.slack_s),
                func.max(RouteStop.planned_arrival), func.max(RouteStop.planned_departure),
                func.sum(RouteStop.position),
                func.count(RouteStop.id).filter(RouteStop.status != StopStatus.pending),
            ).where(RouteStop.organization_id == org, RouteStop.route_id.in_(routes))
        ).one()  # fmt: skip
        order_row = self.session.execute(
            select(func.count(Order.id), func.max(Order.updated_at)).where(
                Order.organization_id == org, Order.route_id.in_(routes)
            )
        ).one()
        return (*route_row, *stop_row, *order_row)

    def _read_day(
        self, service_date: date, tz: ZoneInfo, exclude_order_id: str | None,
        route_id: str | None,
    ) -> DayPlan:  # fmt: skip
        s = self.session
        routes_q = (
            _Routes(s, self.scope)
            .scoped()
            .with_only_columns(
                Route.id,
                Route.status,
                Route.vehicle_id,
                Route.driver_id,
                Route.start_depot_id,
                Route.end_depot_id,
                Route.starts_at,
                Route.ends_at,
            )
            .where(Route.service_date == service_date)
            .order_by(Route.id)
        )
        if route_id is not None:
            routes_q = routes_q.where(Route.id == route_id)
        active = [r for r in s.execute(routes_q) if r.status in ACTIVE_ROUTE]
        if not active:
            return DayPlan(RouteSet.build([]), ())
        ids = [r.id for r in active]
        stops = s.execute(
            _Stops(s, self.scope)
            .scoped()
            .with_only_columns(
                RouteStop.route_id,
                RouteStop.id,
                RouteStop.kind,
                RouteStop.lat,
                RouteStop.lon,
                RouteStop.planned_arrival,
                RouteStop.planned_departure,
                RouteStop.slack_s,
                RouteStop.status,
                RouteStop.order_ids,
            )
            .where(RouteStop.route_id.in_(ids))
            .order_by(RouteStop.route_id, RouteStop.position)
        ).all()
        loads = self._stop_loads(ids, exclude_order_id)
        vehicle_ids = {r.vehicle_id for r in active}
        vehicles = {
            v.id: v
            for v in s.scalars(
                VehicleRepository(s, self.scope).scoped().where(Vehicle.id.in_(vehicle_ids))
            )
        }
        depots = {d.id: d for d in DepotRepository(s, self.scope).all()}
        epoch = local_midnight(service_date, tz)
        shift_end = self._shift_ends(epoch, {r.driver_id for r in active if r.driver_id})
        drone_end = datetime.combine(service_date, DRONE_HOURS[1], tz)
        by_route: dict[str, list[Any]] = {}
        for row in stops:
            if exclude_order_id is None or list(row.order_ids) != [exclude_order_id]:
                by_route.setdefault(row.route_id, []).append(row)
        nodes, meta = [], []
        for route in active:
            kept = by_route.get(route.id, [])
            vehicle = vehicles[route.vehicle_id]
            if vehicle.type is VehicleType.drone:
                end_room = (drone_end - route.ends_at).total_seconds()
            elif route.driver_id in shift_end:
                end_room = (shift_end[route.driver_id] - route.ends_at).total_seconds()
            else:
                # No shift on record: the last stop's slack never exceeds the room left.
                end_room = float(kept[-1].slack_s) if kept else 0.0
            nodes.append(
                self._nodes(
                    route,
                    kept,
                    loads,
                    vehicle,
                    (depots[route.start_depot_id], depots[route.end_depot_id]),
                    epoch,
                    end_room,
                )
            )
            meta.append(RouteMeta(route.id, (None, *(row.id for row in kept), None)))
        return DayPlan(RouteSet.build(nodes), tuple(meta))

    def _stop_loads(
        self, route_ids: Sequence[str], exclude_order_id: str | None
    ) -> dict[str, tuple[float, float, float]]:
        stmt = (
            select(
                Order.stop_id,
                func.count(Parcel.id),
                func.coalesce(func.sum(Parcel.weight_kg), 0.0),
                func.coalesce(func.sum(Parcel.volume_litres), 0.0),
            )
            .join(Parcel, Parcel.order_id == Order.id)
            .where(
                Order.organization_id == self.scope.organization_id,
                Order.route_id.in_(route_ids),
            )
            .group_by(Order.stop_id)
        )
        if exclude_order_id is not None:
            stmt = stmt.where(Order.id != exclude_order_id)
        return {
            stop: (float(count), float(kg), float(litres))
            for stop, count, kg, litres in self.session.execute(stmt)
            if stop is not None
        }

    def _shift_ends(self, epoch: datetime, driver_ids: set[str]) -> dict[str, datetime]:
        if not driver_ids:
            return {}
        rows = self.session.execute(
            ShiftRepository(self.session, self.scope)
            .scoped()
            .with_only_columns(Shift.driver_id, Shift.ends_at)
            .where(
                Shift.driver_id.in_(driver_ids),
                Shift.starts_at >= epoch,
                Shift.starts_at < epoch + timedelta(days=1),
            )
        ).all()
        ends: dict[str, datetime] = {}
        for driver_id, ends_at in rows:
            ends[driver_id] = max(ends_at, ends.get(driver_id, ends_at))
        return ends

    def _nodes(
        self, route: Any, stops: Sequence[Any], loads: dict[str, tuple[float, float, float]],
        vehicle: Vehicle, depots: tuple[Depot, Depot], epoch: datetime, end_room: float,
    ) -> RouteNodes:  # fmt: skip
        def sec(moment: datetime) -> float:
            return (moment - epoch).total_seconds()

        start, end = depots
        begin, finish = sec(route.starts_at), sec(route.ends_at)
        none = (0.0, 0.0, 0.0)
        # A stop counts as reached once it or any later stop is no longer pending.
        pending = np.array([x.status is StopStatus.pending for x in stops], dtype=bool)
        passed = ~np.logical_and.accumulate(pending[::-1])[::-1]
        per_km = co2_g_per_km(vehicle, self.grid_g_per_kwh)
        return RouteNodes(
            route_id=route.id,
            lat=np.array([start.lat, *(x.lat for x in stops), end.lat]),
            lon=np.array([start.lon, *(x.lon for x in stops), end.lon]),
            arrival_s=np.array([begin, *(sec(x.planned_arrival) for x in stops), finish]),
            departure_s=np.array([begin, *(sec(x.planned_departure) for x in stops), finish]),
            slack_s=np.array([0.0, *(float(x.slack_s) for x in stops), max(0.0, end_room)]),
            reached=np.concatenate(([True], passed, [False])),
            node_load=np.array([none, *(loads.get(x.id, none) for x in stops), none]),
            reload=np.array([False, *(x.kind == "reload" for x in stops), False]),
            capacity=rp.Load(
                vehicle.capacity_parcels, vehicle.capacity_kg, vehicle.capacity_litres
            ),
            max_payload_kg=vehicle.max_payload_kg,
            profile=RoutingProfile(vehicle.routing_profile),
            co2_g_per_km=per_km,
        )

    def pooled_nearby(
        self, days: Sequence[date], lat: float, lon: float, radius_m: float,
        exclude_order_id: str | None = None,
    ) -> dict[date, list[tuple[float, float]]]:  # fmt: skip
        """Coordinates of orders waiting in the pool on each day within ~``radius_m``."""
        dlat = radius_m / 111_195.0
        dlon = dlat / max(0.01, float(np.cos(np.radians(lat))))
        stmt = (
            OrderRepository(self.session, self.scope)
            .scoped()
            .with_only_columns(Order.service_date, Address.lat, Address.lon)
            .join(Address, Address.id == Order.address_id)
            .where(
                Order.service_date.in_(days),
                Order.status.in_(POOLED),
                Address.lat.between(lat - dlat, lat + dlat),
                Address.lon.between(lon - dlon, lon + dlon),
            )
        )
        if exclude_order_id is not None:
            stmt = stmt.where(Order.id != exclude_order_id)
        out: dict[date, list[tuple[float, float]]] = {}
        for day, a_lat, a_lon in self.session.execute(stmt):
            out.setdefault(day, []).append((a_lat, a_lon))
        return out

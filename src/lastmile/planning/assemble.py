"""Turn a tenant's day (orders, fleet, shifts) into the routing core's :class:`Problem`.

Times in the core are seconds from the *epoch*: local midnight of the service date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, selectinload

from lastmile.auth.principal import Principal
from lastmile.fleet.models import Driver, PickupPoint, Shift, Vehicle, VehicleType
from lastmile.fleet.repository import (
    DepotRepository,
    DriverRepository,
    PickupPointRepository,
    ShiftRepository,
    VehicleRepository,
)
from lastmile.kit.errors import Unprocessable, field_error
from lastmile.orders.models import DeliveryMethod, Order
from lastmile.orders.repository import OrderRepository
from lastmile.orders.status import OrderStatus
from lastmile.planning.schemas import PlanRequest, UnassignedOrder
from lastmile.routing import plan as rp_plan
from lastmile.routing import problem as rp
from lastmile.routing.geo import Coordinate
from lastmile.routing.service_time import DeliveryMethod as Handling
from lastmile.routing.service_time import service_time

PLANNABLE = (OrderStatus.created, OrderStatus.rescheduled)
# Parcels heavier than this need a driver with the ``heavy`` skill (two-person lift rule).
HEAVY_KG = 25.0
# Drones fly without a driver shift; they operate within these local hours.
DRONE_HOURS = (time(8), time(20))
HANDLING_BY_METHOD = {
    DeliveryMethod.doorstep: Handling.DOORSTEP,
    DeliveryMethod.safe_place: Handling.DOORSTEP,
    DeliveryMethod.in_home: Handling.IN_HOME,
    DeliveryMethod.locker: Handling.LOCKER,
    DeliveryMethod.pickup_point: Handling.PARCEL_SHOP,
}


@dataclass
class AssembledDay:
    """The problem, and how to map its ids and times back to the domain."""

    problem: rp.Problem
    epoch: datetime
    driver_of_vehicle: dict[str, str | None]
    order_ids: list[str] = field(default_factory=list)
    # Orders left out before the search (every window already over): not in the problem, but
    # part of the day, so the proposal lists them as unassigned.
    excluded: list[UnassignedOrder] = field(default_factory=list)

    def at(self, seconds: int) -> datetime:
        return self.epoch + timedelta(seconds=seconds)

    def describe(self, text: str) -> str:
        """Name orders and vehicles in a core message (``jobs[3]`` -> the order id)."""
        text = re.sub(r"jobs\[(\d+)\]", lambda m: f"order {self.problem.jobs[int(m[1])].id}", text)
        return re.sub(
            r"vehicle_types\[(\d+)\]",
            lambda m: f"vehicle {self.problem.vehicle_types[int(m[1])].id}",
            text,
        )


def _refuse(field_name: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors=[field_error([field_name], message)])


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _seconds(moment: datetime, epoch: datetime) -> int:
    return round((moment - epoch).total_seconds())


def _pair_drivers(
    vehicles: list[Vehicle], shifts: dict[str, Shift], drivers: dict[str, Driver]
) -> dict[str, Driver | None]:
    """Give each vehicle a driver on shift, preferring drivers based at its depot."""
    free = sorted((drivers[d] for d in shifts), key=lambda d: d.id)
    paired: dict[str, Driver | None] = {}
    for same_depot_only in (True, False):
        for vehicle in vehicles:
            if vehicle.id in paired or vehicle.type is VehicleType.drone:
                continue
            match = next(
                (d for d in free
                 if not same_depot_only or d.home_depot_id == vehicle.home_depot_id),
                None,
            )  # fmt: skip
            if match is not None:
                free.remove(match)
                paired[vehicle.id] = match
    return paired


def assemble_day(
    session: Session, principal: Principal, request: PlanRequest, tz: ZoneInfo, now: datetime,
    *, grid_kg_co2e_per_kwh: float,
) -> AssembledDay:  # fmt: skip
    """Read everything the plan needs; refuse (422) requests that cannot be planned."""
    if request.service_date < now.astimezone(tz).date():
        raise _refuse("service_date", "the service date is in the past")
    epoch = local_midnight(request.service_date, tz)
    # Re-planning a day under way: what is already over is left out (the core refuses it).
    now_s = max(0, _seconds(now, epoch))
    depots = {d.id: d for d in DepotRepository(session, principal).all()}
    for depot_id in request.depot_ids or []:
        if depot_id not in depots:
            raise _refuse("depot_ids", f"unknown depot {depot_id!r}")
    vehicles = [v for v in VehicleRepository(session, principal).all() if v.active]
    if request.vehicle_ids is not None:
        known = {v.id for v in vehicles}
        unknown = [v for v in request.vehicle_ids if v not in known]
        if unknown:
            raise _refuse("vehicle_ids", f"unknown or inactive vehicles: {', '.join(unknown)}")
        vehicles = [v for v in vehicles if v.id in set(request.vehicle_ids)]
    if request.depot_ids:
        vehicles = [v for v in vehicles if v.home_depot_id in set(request.depot_ids)]

    day_end = epoch + timedelta(days=1)
    shift_rows = ShiftRepository(session, principal).starting_between(epoch, day_end)
    drivers = {d.id: d for d in DriverRepository(session, principal).all() if d.active}
    shifts = {s.driver_id: s for s in sorted(shift_rows, key=lambda s: s.starts_at)
              if s.driver_id in drivers and _seconds(s.ends_at, epoch) > now_s}  # fmt: skip
    paired = _pair_drivers(vehicles, shifts, drivers)

    vehicle_types: list[rp.VehicleType] = []
    for vehicle in vehicles:
        driver = paired.get(vehicle.id)
        if vehicle.type is VehicleType.drone:
            start = _seconds(datetime.combine(request.service_date, DRONE_HOURS[0], tz), epoch)
            end = _seconds(datetime.combine(request.service_date, DRONE_HOURS[1], tz), epoch)
            breaks: tuple[rp.Break, ...] = ()
            skills: frozenset[str] = frozenset()
        elif driver is None:
            continue  # no one to drive it today
        else:
            shift = shifts[driver.id]
            start, end = _seconds(shift.starts_at, epoch), _seconds(shift.ends_at, epoch)
            breaks = tuple(
                rp.Break(
                    earliest_start_s=_seconds(datetime.fromisoformat(b["earliest_start"]), epoch),
                    latest_start_s=_seconds(datetime.fromisoformat(b["latest_end"]), epoch)
                    - b["duration_minutes"] * 60,
                    duration_s=b["duration_minutes"] * 60,
                )
                for b in shift.breaks
            )
            skills = frozenset(driver.skills)
        if end <= now_s:
            continue  # its hours are over (drones; ended shifts are never paired)
        depot = depots[vehicle.home_depot_id]
        vehicle_types.append(
            rp.VehicleType(
                id=vehicle.id, depot_id=depot.id,
                capacity=rp.Load(vehicle.capacity_parcels, vehicle.capacity_kg,
                                 vehicle.capacity_litres),
                shift_start_s=max(start, 0) + depot.loading_time_s, shift_end_s=end,
                profile=vehicle.routing_profile, fixed_cost=vehicle.fixed_cost,
                cost_per_km=vehicle.cost_per_km, cost_per_hour=vehicle.cost_per_hour,
                max_distance_m=round(vehicle.range_km * 1000) if vehicle.range_km else None,
                max_payload_kg=vehicle.max_payload_kg, skills=skills, breaks=breaks,
                co2_g_per_km=vehicle.co2_g_per_km,
                energy_kwh_per_km=vehicle.energy_kwh_per_km,
            )
        )  # fmt: skip
    if not vehicle_types:
        raise _refuse("vehicle_ids", "no vehicle has a driver on shift that day")

    orders = _plannable_orders(session, principal, request)
    if not orders:
        raise _refuse("order_ids", "no orders to plan that day")
    points = {p.id: p for p in PickupPointRepository(session, principal).all()}
    jobs: list[rp.Job] = []
    excluded: list[UnassignedOrder] = []
    for order in orders:
        windows = [rp.TimeWindow(_seconds(w.starts_at, epoch), _seconds(w.ends_at, epoch))
                   for w in order.windows]  # fmt: skip
        open_windows = [w for w in windows if w.end_s > now_s]
        if windows and not open_windows:
            excluded.append(UnassignedOrder(
                order_id=order.id, reason=rp_plan.UnassignedReason.WINDOW.value,
                detail="all its delivery windows are over"))  # fmt: skip
        else:
            jobs.append(_job(order, points, epoch, tuple(open_windows)))
    problem = rp.Problem(
        depots=tuple(rp.Depot(d.id, Coordinate(d.lat, d.lon)) for d in depots.values()),
        vehicle_types=tuple(vehicle_types),
        jobs=tuple(jobs),
        now_s=now_s,
        grid_co2_g_per_kwh=grid_kg_co2e_per_kwh * 1000,
    )
    return AssembledDay(
        problem=problem,
        epoch=epoch,
        driver_of_vehicle={v.id: (d.id if (d := paired.get(v.id)) else None) for v in vehicles},
        order_ids=[o.id for o in orders],
        excluded=excluded,
    )


def _plannable_orders(session: Session, principal: Principal, request: PlanRequest) -> list[Order]:
    repo = OrderRepository(session, principal)
    stmt = (
        repo.scoped()
        .where(Order.service_date == request.service_date, Order.status.in_(PLANNABLE))
        .options(selectinload(Order.parcels), selectinload(Order.windows))
        .order_by(Order.id)
    )
    if request.order_ids is not None:
        stmt = stmt.where(Order.id.in_(request.order_ids))
    orders = list(session.scalars(stmt))
    if request.order_ids is not None and len(orders) != len(set(request.order_ids)):
        missing = sorted(set(request.order_ids) - {o.id for o in orders})[:10]
        raise _refuse("order_ids", f"not plannable (unknown, other day or status): {missing}")
    return orders


def priority_level(priority: int) -> int:
    """Order priority 0-100 as a solver level 0-3.

    Each level is worth ``PlanningOptions.priority_factor`` times the one below, so few
    levels keep prizes within the solver's integer range and still dominate detour costs.
    """
    return min(3, priority // 25)


def required_skills(order: Order) -> set[str]:
    """What a driver must be qualified for to deliver ``order``."""
    skills = set()
    if order.delivery_method is DeliveryMethod.in_home:
        skills.add("in_home")
    if order.age_check:
        skills.add("age_check")
    if any(p.weight_kg > HEAVY_KG for p in order.parcels):
        skills.add("heavy")
    return skills


def _job(
    order: Order, points: dict[str, PickupPoint], epoch: datetime,
    windows: tuple[rp.TimeWindow, ...],
) -> rp.Job:  # fmt: skip
    point = points.get(order.pickup_point_id or "")
    where = (
        Coordinate(point.lat, point.lon)
        if point
        else Coordinate(order.address.lat, order.address.lon)
    )
    kg = sum(p.weight_kg for p in order.parcels)
    skills = required_skills(order)
    timing = service_time(
        HANDLING_BY_METHOD[order.delivery_method], len(order.parcels), age_check=order.age_check
    )
    return rp.Job(
        id=order.id, location=where,
        load=rp.Load(len(order.parcels), kg, sum(p.volume_litres for p in order.parcels)),
        service_s=timing.service_s, setup_s=timing.setup_s,
        windows=windows,
        release_s=max(0, _seconds(order.release_at, epoch)) if order.release_at else 0,
        skills=frozenset(skills), priority=priority_level(order.priority),
        stop_key=f"point:{point.id}" if point else f"address:{order.address_id}",
    )  # fmt: skip

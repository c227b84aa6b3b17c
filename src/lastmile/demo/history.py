"""Past days of finished deliveries for the demo, so reports have history to show.

``seed_history`` writes, for each of the ``days`` days before today, completed routes for the
organization's vehicles with their stops reached, orders delivered or failed (with the driver's
reason), their status history, delivery proofs and some customer ratings. Rows are written
directly (one multi-row INSERT per table and day), not through the services: this is history,
already over, and the services refuse times in the past. Deterministic for a seed, except for
the random ids.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from lastmile.config import Settings
from lastmile.customers.models import Address, Customer
from lastmile.db.engine import Database
from lastmile.demo.city import DemoCity, generate_city, generate_orders
from lastmile.driver.models import DeliveryProof, FailureReason, ProofOutcome
from lastmile.feedback.models import Feedback
from lastmile.fleet.models import Depot, DepotKind, Driver, PickupPoint, Vehicle, VehicleType
from lastmile.kit.clock import utcnow
from lastmile.kit.ids import new_id
from lastmile.orders.models import DeliveryMethod, DeliveryWindow, Order, OrderEvent, Parcel
from lastmile.orders.status import OrderStatus
from lastmile.organizations.models import Merchant, Organization
from lastmile.planning.models import Plan, PlanStatus, Route, RouteStatus, RouteStop, StopStatus
from lastmile.routing import problem as rp
from lastmile.routing.emissions import route_co2_g, route_cost
from lastmile.routing.geo import great_circle_m

ACTOR = "system:demo-history"
DETOUR = 1.35  # road distance over straight line in a city
BIKE_RADIUS_M = 1800  # orders this close to a hub go by cargo bike
WINDOW_SHARE = 0.25  # orders with a booked 2-hour window
RATED_SHARE = 0.3
INCIDENT_P = 0.02
FAIL_P = {VehicleType.van: 0.07, VehicleType.ev_van: 0.06, VehicleType.cargo_bike: 0.04}
REASON_P = {
    FailureReason.not_home: 0.55,
    FailureReason.no_access: 0.17,
    FailureReason.wrong_address: 0.09,
    FailureReason.refused: 0.08,
    FailureReason.damaged: 0.06,
    FailureReason.unsafe: 0.05,
}
DAY_START_H = 8.0
GRID_DEFAULT: float = Settings.model_fields["grid_kg_co2e_per_kwh"].default


@dataclass
class HistorySummary:
    days: list[date] = field(default_factory=list)  # the days written (others already had routes)
    routes: int = 0
    orders: int = 0


@dataclass
class _Fleet:
    vehicles: list[Vehicle]
    drivers: list[str]  # one per vehicle, in order
    depots: dict[str, Depot]
    merchants: dict[str, str]  # name -> id
    points: dict[str, str]  # pickup point name -> id
    zone: ZoneInfo


def _fleet(session: Session, organization_id: str) -> _Fleet:
    def rows(model: Any) -> list[Any]:
        stmt = select(model).where(model.organization_id == organization_id).order_by(model.name)
        return list(session.scalars(stmt))

    vehicles = [v for v in rows(Vehicle) if v.active and v.type is not VehicleType.drone]
    drivers = [d.id for d in rows(Driver) if d.active]
    if not vehicles or not drivers:
        raise ValueError("the organization needs vehicles and drivers for history")
    vehicles = vehicles[: len(drivers)]
    org = session.get(Organization, organization_id)
    assert org is not None
    return _Fleet(
        vehicles, drivers[: len(vehicles)], {d.id: d for d in rows(Depot)},
        {m.name: m.id for m in rows(Merchant)}, {p.name: p.id for p in rows(PickupPoint)},
        ZoneInfo(org.timezone),
    )  # fmt: skip


def _assign(fleet: _Fleet, orders: Sequence[dict[str, Any]]) -> dict[int, list[int]]:
    """Vehicle index -> order indexes: near a hub by bike, else by the nearest depot's vans,
    shared out among a depot's vehicles by bearing (each takes a slice of the compass)."""
    by_kind: dict[tuple[str, bool], list[int]] = defaultdict(list)
    for i, v in enumerate(fleet.vehicles):
        by_kind[(v.home_depot_id, v.type is VehicleType.cargo_bike)].append(i)
    hubs = [d for d in fleet.depots.values() if d.kind is DepotKind.hub]
    motor = [d for d in fleet.depots.values() if by_kind.get((d.id, False))]
    pools: dict[tuple[str, bool], list[int]] = defaultdict(list)
    for n, order in enumerate(orders):
        lat, lon = order["address"]["lat"], order["address"]["lon"]
        hub = min(hubs, key=lambda d: great_circle_m(lat, lon, d.lat, d.lon), default=None)
        if (
            hub
            and by_kind.get((hub.id, True))
            and (great_circle_m(lat, lon, hub.lat, hub.lon) < BIKE_RADIUS_M)
        ):
            pools[(hub.id, True)].append(n)
            continue
        depot = min(motor or list(fleet.depots.values()),
                    key=lambda d: great_circle_m(lat, lon, d.lat, d.lon))  # fmt: skip
        pools[(depot.id, False)].append(n)
    routes: dict[int, list[int]] = defaultdict(list)
    for (depot_id, bike), members in pools.items():
        depot = fleet.depots[depot_id]
        vehicles = by_kind.get((depot_id, bike)) or next(iter(by_kind.values()))

        def bearing(n: int, depot: Depot = depot) -> float:
            a = orders[n]["address"]
            return math.atan2(a["lat"] - depot.lat, a["lon"] - depot.lon)

        ordered = sorted(members, key=bearing)
        size = math.ceil(len(ordered) / len(vehicles))
        for k, vehicle in enumerate(vehicles):
            routes[vehicle] += ordered[k * size : (k + 1) * size]
    return routes


def _tour(depot: Depot, points: list[tuple[float, float]]) -> list[int]:
    """Nearest-neighbour visiting order from the depot (good enough for history)."""
    left, at, order = set(range(len(points))), (depot.lat, depot.lon), []
    while left:
        nxt = min(left, key=lambda i: great_circle_m(*at, *points[i]))
        order.append(nxt)
        left.remove(nxt)
        at = points[nxt]
    return order


class _Day:
    """The rows of one past day, built up route by route."""

    def __init__(
        self, fleet: _Fleet, organization_id: str, city: DemoCity, seed: int, grid_g_per_kwh: float
    ) -> None:
        day = city.service_date
        self.fleet, self.org, self.day, self.grid = fleet, organization_id, day, grid_g_per_kwh
        # The generated orders name merchants and lockers by index into the city's lists.
        self.merchants = [fleet.merchants.get(name) for name in city.merchants]
        self.points = [fleet.points.get(p["name"]) for p in city.pickup_points]
        self.rng = np.random.default_rng([seed, day.toordinal()])
        self.rows: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        self.start = datetime.combine(day, time(0), tzinfo=fleet.zone).astimezone(UTC) + timedelta(
            hours=DAY_START_H
        )
        self.plan_id = new_id("pln")
        self.rows[Plan].append({
            "id": self.plan_id, "organization_id": self.org, "service_date": day,
            "status": PlanStatus.committed, "request": {"history": True}, "progress": 1.0,
            "created_by": ACTOR, "created_at": self.start - timedelta(hours=12),
            "updated_at": self.start - timedelta(hours=11), "committed_at": self.start,
        })  # fmt: skip

    def add(self, key: str, values: dict[str, Any], at: datetime | None = None) -> str:
        id_ = new_id(key)
        row = {"id": id_, "organization_id": self.org} | values
        if at is not None:
            row |= {"created_at": at, "updated_at": at}
        model = {"cus": Customer, "adr": Address, "ord": Order, "prc": Parcel, "win":
                 DeliveryWindow, "evt": OrderEvent, "prf": DeliveryProof, "fbk": Feedback,
                 "rte": Route, "stp": RouteStop}[key]  # fmt: skip
        self.rows[model].append(row)
        return id_

    def route(self, vehicle_no: int, orders: list[dict[str, Any]]) -> None:
        fleet, rng = self.fleet, self.rng
        vehicle = fleet.vehicles[vehicle_no]
        driver_id = fleet.drivers[vehicle_no]
        depot = fleet.depots[vehicle.home_depot_id]
        points = [(o["address"]["lat"], o["address"]["lon"]) for o in orders]
        tour = _tour(depot, points)
        route_id = new_id("rte")
        speed = vehicle.avg_speed_kmh / 3.6
        pace = float(rng.lognormal(0.05, 0.15))  # this day's traffic on this route
        leave = self.start + timedelta(seconds=depot.loading_time_s)
        planned = actual = leave
        at, distance = (depot.lat, depot.lon), 0.0
        ordered_at = self.start - timedelta(hours=float(rng.uniform(14, 30)))
        for position, k in enumerate(tour, start=1):
            leg = great_circle_m(*at, *points[k]) * DETOUR
            distance += leg
            service = timedelta(seconds=float(rng.uniform(90, 200)))
            planned += timedelta(seconds=leg / speed)
            actual += timedelta(seconds=leg / speed * pace + float(rng.normal(0, 90)))
            if rng.random() < INCIDENT_P:  # a blocked street, a long wait at a door
                actual += timedelta(minutes=float(rng.uniform(4, 20)))
            actual = max(actual, planned - timedelta(minutes=10))
            self._order(orders[k], route_id, position, vehicle, driver_id, depot,
                                  planned, actual, service, ordered_at)  # fmt: skip
            planned += service
            actual += service
            at = points[k]
        back = great_circle_m(*at, depot.lat, depot.lon) * DETOUR
        distance += back
        ends = planned + timedelta(seconds=back / speed)
        duration = round((ends - self.start).total_seconds())
        factors = rp.VehicleType(
            id=vehicle.id, depot_id=depot.id, capacity=rp.Load(), shift_start_s=0,
            shift_end_s=0, fixed_cost=vehicle.fixed_cost, cost_per_km=vehicle.cost_per_km,
            cost_per_hour=vehicle.cost_per_hour, co2_g_per_km=vehicle.co2_g_per_km,
            energy_kwh_per_km=vehicle.energy_kwh_per_km,
        )  # fmt: skip
        coordinates = [[depot.lon, depot.lat], *([points[k][1], points[k][0]] for k in tour),
                       [depot.lon, depot.lat]]  # fmt: skip
        self.rows[Route].append({
            "id": route_id, "organization_id": self.org, "plan_id": self.plan_id,
            "service_date": self.day, "vehicle_id": vehicle.id, "driver_id": driver_id,
            "start_depot_id": depot.id, "end_depot_id": depot.id,
            "status": RouteStatus.completed, "starts_at": self.start, "ends_at": ends,
            "distance_m": round(distance), "duration_s": duration,
            "cost": route_cost(factors, round(distance), duration),
            "co2_g": route_co2_g(factors, round(distance), self.grid),
            "geometry": {"type": "LineString", "coordinates": coordinates},
            "created_at": self.start, "updated_at": ends,
        })  # fmt: skip

    def _order(
        self, raw: dict[str, Any], route_id: str, position: int, vehicle: Vehicle,
        driver_id: str, depot: Depot, planned: datetime, actual: datetime,
        service: timedelta, ordered_at: datetime,
    ) -> None:  # fmt: skip
        """One order's rows, with a stop of its own."""
        rng = self.rng
        merchant_id = self.merchants[raw["merchant"]]
        address = raw["address"]
        customer_id = self.add("cus", {"merchant_id": merchant_id} | raw["customer"], ordered_at)
        address_id = self.add("adr", {"merchant_id": merchant_id, "customer_id": customer_id,
                                      "line2": None, "access_notes": None} | address,
                              ordered_at)  # fmt: skip
        method = DeliveryMethod(raw["delivery_method"])
        point_id = None
        if "pickup_point_id" in raw:
            point_id = self.points[raw["pickup_point_id"]]
            if point_id is None:
                method = DeliveryMethod.doorstep
        failed = method not in (DeliveryMethod.locker, DeliveryMethod.pickup_point) and (
            rng.random() < FAIL_P.get(vehicle.type, 0.06)
        )
        done = actual + service
        status = OrderStatus.failed if failed else OrderStatus.delivered
        stop_id = new_id("stp")
        windowed = rng.random() < WINDOW_SHARE  # a booked window around the promised time
        order_id = self.add("ord", {
            "merchant_id": merchant_id, "merchant_reference": raw["merchant_reference"],
            "customer_id": customer_id, "address_id": address_id, "status": status,
            "service_level": "scheduled" if windowed else "next_day", "delivery_method": method,
            "pickup_point_id": point_id if method is not DeliveryMethod.doorstep else None,
            "service_date": self.day, "zone": None,
            "safe_place": raw.get("safe_place"), "safe_place_note": None,
            "instructions": raw.get("instructions"),
            "signature_required": raw.get("signature_required", False),
            "age_check": raw.get("age_check", False), "declared_value": None, "currency": None,
            "priority": raw["priority"], "release_at": None, "driver_id": driver_id,
            "vehicle_id": vehicle.id, "route_id": route_id, "stop_id": stop_id,
        }, ordered_at)  # fmt: skip
        self.rows[Order][-1]["updated_at"] = done
        for n, parcel in enumerate(raw["parcels"]):
            self.add("prc", {"order_id": order_id, "position": n, "length_cm": None,
                             "width_cm": None, "height_cm": None} | parcel)  # fmt: skip
        if windowed:
            opens = planned - timedelta(minutes=float(rng.uniform(20, 100)))
            opens = opens.replace(minute=0 if opens.minute < 30 else 30, second=0, microsecond=0)
            self.add("win", {"order_id": order_id, "position": 0, "starts_at": opens,
                             "ends_at": opens + timedelta(hours=2)})  # fmt: skip
        self.rows[RouteStop].append({
            "id": stop_id, "organization_id": self.org, "route_id": route_id, "position": position,
            "kind": "stop", "depot_id": None, "lat": address["lat"], "lon": address["lon"],
            "planned_arrival": planned, "planned_departure": planned + service, "slack_s": 0,
            "order_ids": [order_id], "status": StopStatus.departed, "arrived_at": actual,
            "departed_at": done, "eta_expected": None, "eta_earliest": None,
            "eta_latest": None, "at_risk": False,
        })  # fmt: skip
        moves = [(None, OrderStatus.created, ordered_at),
                 (OrderStatus.created, OrderStatus.planned, self.start - timedelta(hours=10)),
                 (OrderStatus.planned, OrderStatus.dispatched, self.start),
                 (OrderStatus.dispatched, OrderStatus.out_for_delivery, self.start),
                 (OrderStatus.out_for_delivery, OrderStatus.arriving, actual),
                 (OrderStatus.arriving, status, done)]  # fmt: skip
        proof_id = new_id("prf")
        reason = None
        if failed:
            reason = FailureReason(str(rng.choice(list(REASON_P), p=list(REASON_P.values()))))
        for old, new, when in moves:
            self.add("evt", {
                "order_id": order_id, "at": when, "from_status": old, "to_status": new,
                "actor": ACTOR, "reason": f"proof {proof_id}" if new is status else None,
                "details": {"event": new.value} | ({"reason": reason.value} if reason else {}),
            })  # fmt: skip
        self.rows[DeliveryProof].append({
            "id": proof_id, "organization_id": self.org, "order_id": order_id,
            "route_id": route_id, "outcome": ProofOutcome(status.value),
            "custody_event": "failed" if failed else "delivered",
            "recipient_name": None if failed else raw["customer"]["name"],
            "age_checked": False, "reason": reason, "note": None, "photo_sha256": None,
            "signature_sha256": None, "captured_at": done, "received_at": done,
            "lat": address["lat"], "lon": address["lon"], "driver_id": driver_id,
            "actor": ACTOR, "ledger_entry_ids": [],
        })  # fmt: skip
        if rng.random() < RATED_SHARE:
            late_min = (actual - planned).total_seconds() / 60
            mood = 4.7 - (1.8 if failed else 0) - max(0.0, late_min - 10) / 15
            rating = int(min(5, max(1, round(rng.normal(mood, 0.7)))))
            self.add("fbk", {
                "order_id": order_id, "merchant_id": merchant_id, "rating": rating,
                "comment": None, "order_status": status, "driver_id": driver_id,
                "vehicle_id": vehicle.id, "hub_id": depot.id, "zone": None, "day": self.day,
                "created_at": done + timedelta(minutes=float(rng.uniform(5, 300))),
            })  # fmt: skip

    def write(self, session: Session) -> None:
        for model in (Plan, Customer, Address, Route, RouteStop, Order, Parcel, DeliveryWindow,
                      OrderEvent, DeliveryProof, Feedback):  # fmt: skip
            if self.rows[model]:
                session.execute(insert(model), self.rows[model])


def seed_history(
    db: Database,
    organization_id: str,
    *,
    days: int = 14,
    orders_per_day: int = 300,
    seed: int = 7,
    today: date | None = None,
    grid_kg_co2e_per_kwh: float = GRID_DEFAULT,
) -> HistorySummary:
    """Write ``days`` finished days before ``today`` (the organization's local today) for the
    organization's vehicles, drivers, depots, merchants and lockers (the demo city's).

    Days that already have routes are left alone, so calling it again adds nothing.
    """
    summary = HistorySummary()
    with db.unit_of_work(readonly=True) as session:
        fleet = _fleet(session, organization_id)
        today = today or utcnow().astimezone(fleet.zone).date()
        first = today - timedelta(days=days)
        taken = set(session.scalars(
            select(Route.service_date).where(Route.organization_id == organization_id,
                                             Route.service_date >= first,
                                             Route.service_date < today).distinct()
        ))  # fmt: skip
        session.expunge_all()
    for offset in range(days, 0, -1):
        day = today - timedelta(days=offset)
        if day in taken:
            continue
        city = generate_city(day, seed=seed)
        # Weekends are quieter; every day differs a little.
        rng = np.random.default_rng([seed, day.toordinal(), 1])
        volume = orders_per_day * (0.6 if day.weekday() >= 5 else 1.0) * rng.uniform(0.9, 1.1)
        orders = generate_orders(city, round(volume), seed=seed + day.toordinal(),
                                 tag=f"H{day:%y%m%d}-")  # fmt: skip
        builder = _Day(fleet, organization_id, city, seed, grid_kg_co2e_per_kwh * 1000)
        for vehicle_no, members in sorted(_assign(fleet, orders).items()):
            if members:
                builder.route(vehicle_no, [orders[n] for n in members])
                summary.routes += 1
        with db.unit_of_work() as session:
            builder.write(session)
        summary.days.append(day)
        summary.orders += len(orders)
    return summary

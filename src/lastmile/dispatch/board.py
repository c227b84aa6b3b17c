"""The route board and the operations map of a day, each in one call."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from lastmile.auth.principal import Principal
from lastmile.dispatch.repository import DayReader
from lastmile.dispatch.schemas import (
    Board,
    BoardDriver,
    BoardOrder,
    BoardRoute,
    BoardStop,
    BoardVehicle,
    FeatureCollection,
)
from lastmile.fleet.models import Vehicle, VehicleType
from lastmile.kit.clock import iso_z, utcnow
from lastmile.planning.models import StopStatus


def electric(vehicle: Vehicle) -> bool:
    """Whether the vehicle runs on electricity (EV vans, e-bikes, drones)."""
    return vehicle.type is VehicleType.ev_van or vehicle.energy_kwh_per_km > 0


def _promise(orders: Sequence[Any]) -> tuple[datetime | None, datetime | None]:
    """The window every order at a stop was promised: the latest start, the tightest end."""
    starts = [o.promised_start for o in orders if getattr(o, "promised_start", None)]
    ends = [o.promised_end for o in orders if getattr(o, "promised_end", None)]
    return (max(starts) if starts else None, min(ends) if ends else None)


def _point(lat: float, lon: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def _iso(moment: datetime | None) -> str | None:
    return iso_z(moment) if moment else None


class DayView:
    """Reads a day for the dashboard; never writes."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.reader = DayReader(session, principal)

    def _day(
        self, day: date, *, geometry: bool = False
    ) -> tuple[list[Row[Any]], dict[str, list[Row[Any]]], dict[str, Any]]:
        routes = self.reader.routes(day, geometry=geometry)
        stops: dict[str, list[Row[Any]]] = defaultdict(list)
        for stop in self.reader.stops([r.id for r in routes]):
            stops[stop.route_id].append(stop)
        orders: dict[str, Any] = {o.id: o for o in self.reader.orders(day)}
        missing = [o for rows in stops.values() for s in rows for o in s.order_ids]
        orders |= self.reader.references([o for o in missing if o not in orders])
        return routes, stops, orders

    def board(self, day: date) -> Board:
        now = utcnow()
        routes, stops, orders = self._day(day)
        vehicles = self.reader.vehicles(r.vehicle_id for r in routes)
        drivers = self.reader.driver_names(r.driver_id for r in routes)
        out = []
        for route in routes:
            vehicle = vehicles[route.vehicle_id]
            rows = [self._stop(s, orders, now) for s in stops[route.id]]
            deliveries = [s for s in rows if s.kind == "stop"]
            fix = route.last_fix_at
            out.append(
                BoardRoute(
                    route_id=route.id, plan_id=route.plan_id, status=route.status,
                    vehicle=BoardVehicle(id=vehicle.id, name=vehicle.name, type=vehicle.type,
                                         electric=electric(vehicle)),
                    driver=BoardDriver(id=route.driver_id, name=drivers[route.driver_id])
                    if route.driver_id in drivers else None,
                    starts_at=route.starts_at, ends_at=route.ends_at, last_fix_at=fix,
                    last_fix_age_s=round((now - fix).total_seconds()) if fix else None,
                    distance_km=round(route.distance_m / 1000, 3),
                    duration_h=round(route.duration_s / 3600, 3),
                    co2_kg=round(route.co2_g / 1000, 3), stops_total=len(deliveries),
                    stops_done=sum(s.status is StopStatus.departed for s in deliveries),
                    at_risk=sum(s.at_risk for s in deliveries),
                    late=sum(s.late for s in deliveries), stops=rows,
                )
            )  # fmt: skip
        out.sort(key=lambda r: (r.vehicle.name, r.route_id))
        return Board(date=day, generated_at=now, routes=out)

    def _stop(self, stop: Row[Any], orders: dict[str, Any], now: datetime) -> BoardStop:
        at_stop = [orders[o] for o in stop.order_ids if o in orders]
        start, end = _promise(at_stop)
        return BoardStop(
            stop_id=stop.id, position=stop.position, kind=stop.kind, status=stop.status,
            lat=stop.lat, lon=stop.lon, planned_arrival=stop.planned_arrival,
            planned_departure=stop.planned_departure, arrived_at=stop.arrived_at,
            departed_at=stop.departed_at, eta_expected=stop.eta_expected,
            eta_earliest=stop.eta_earliest, eta_latest=stop.eta_latest, promised_start=start,
            promised_end=end, at_risk=stop.at_risk,
            late=end is not None and end < now and stop.status is not StopStatus.departed,
            slack_s=stop.slack_s,
            orders=[
                BoardOrder(order_id=o.id, reference=o.merchant_reference, status=o.status)
                for o in at_stop
            ],
        )  # fmt: skip

    def map(self, day: date) -> FeatureCollection:
        now = utcnow()
        routes, stops, orders = self._day(day, geometry=True)
        vehicles = self.reader.vehicles(r.vehicle_id for r in routes)
        features: list[dict[str, Any]] = []
        for route in routes:
            vehicle = vehicles[route.vehicle_id]
            features.append(
                {
                    "type": "Feature", "geometry": route.geometry,
                    "properties": {
                        "feature": "route", "route_id": route.id, "vehicle_id": vehicle.id,
                        "vehicle_name": vehicle.name, "vehicle_type": vehicle.type.value,
                        "electric": electric(vehicle), "status": route.status.value,
                    },
                }
            )  # fmt: skip
            for row in stops[route.id]:
                stop = self._stop(row, orders, now)
                features.append(
                    {
                        "type": "Feature", "geometry": _point(stop.lat, stop.lon),
                        "properties": {
                            "feature": "stop", "stop_id": stop.stop_id, "route_id": route.id,
                            "position": stop.position, "kind": stop.kind,
                            "status": stop.status.value, "at_risk": stop.at_risk,
                            "late": stop.late, "planned_arrival": iso_z(stop.planned_arrival),
                            "eta_expected": _iso(stop.eta_expected),
                            "order_ids": [o.order_id for o in stop.orders],
                        },
                    }
                )  # fmt: skip
        for depot in self.reader.depots():
            features.append(
                {
                    "type": "Feature", "geometry": _point(depot.lat, depot.lon),
                    "properties": {"feature": "depot", "depot_id": depot.id,
                                   "name": depot.name, "depot_kind": depot.kind.value},
                }
            )  # fmt: skip
        for point in self.reader.pickup_points():
            features.append(
                {
                    "type": "Feature", "geometry": _point(point.lat, point.lon),
                    "properties": {"feature": "pickup_point", "pickup_point_id": point.id,
                                   "name": point.name, "point_kind": point.kind.value,
                                   "active": point.active},
                }
            )  # fmt: skip
        return FeatureCollection(features=features)

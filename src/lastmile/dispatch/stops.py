"""What a committed stop asks of a vehicle, and the bookkeeping shared by dispatcher edits.

Dispatcher edits (moving a stop, re-planning a route) change routes outside the planner, so
their figures are estimates in the insertion core's terms: distances are great-circle metres
times the profile's circuity (``slots.insertion``), and the stored geometry becomes straight
segments through the stops in their new order until the next plan draws roads again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from lastmile.db.engine import after_commit
from lastmile.fleet.models import Depot, Vehicle
from lastmile.kit.clock import iso_z, utcnow
from lastmile.live.broker import Broker
from lastmile.live.channels import fleet_channel
from lastmile.live.events import LiveEvent
from lastmile.orders.models import Order
from lastmile.planning.assemble import local_midnight, required_skills
from lastmile.planning.models import Route, RouteStop
from lastmile.routing.geo import Coordinate, great_circle_m
from lastmile.routing.geojson import line_string
from lastmile.routing.haversine import DEFAULT_STRAIGHT_LINE_SPEEDS
from lastmile.routing.problem import Load
from lastmile.routing.profiles import RoutingProfile
from lastmile.slots.repository import co2_g_per_km


@dataclass(frozen=True, slots=True)
class StopDemand:
    """A stop's orders as one delivery: load, handling time, promise and driver skills."""

    load: Load
    service_s: float
    window: tuple[datetime, datetime]
    promised: bool  # False: no order has a window, ``window`` is the whole day
    skills: frozenset[str]


def demand(stop: RouteStop, orders: Sequence[Order], day: date, tz: ZoneInfo) -> StopDemand:
    """What serving ``stop`` takes. Its promise is the tracker's: the latest start and the
    tightest end of the orders' first windows. Its handling time is the one planned for it
    (departure minus the start of service)."""
    parcels = [p for o in orders for p in o.parcels]
    starts = [min(w.starts_at for w in o.windows) for o in orders if o.windows]
    ends = [min(w.ends_at for w in o.windows) for o in orders if o.windows]
    if starts and ends:
        window, promised = (max(starts), min(ends)), True
    else:
        window, promised = (local_midnight(day, tz), local_midnight(day + timedelta(1), tz)), False
    service_start = max(stop.planned_arrival, window[0]) if promised else stop.planned_arrival
    skills: set[str] = set()
    for order in orders:
        skills |= required_skills(order)
    return StopDemand(
        load=Load(len(parcels), sum(p.weight_kg for p in parcels),
                  sum(p.volume_litres for p in parcels)),
        service_s=max(0.0, (stop.planned_departure - service_start).total_seconds()),
        window=window, promised=promised, skills=frozenset(skills),
    )  # fmt: skip


def circuity(vehicle: Vehicle) -> float:
    return DEFAULT_STRAIGHT_LINE_SPEEDS[RoutingProfile(vehicle.routing_profile)].circuity


def road_m(a: tuple[float, float], b: tuple[float, float], vehicle: Vehicle) -> float:
    """Estimated road distance between two points for ``vehicle`` (the insertion core's)."""
    return great_circle_m(a[0], a[1], b[0], b[1]) * circuity(vehicle)


def ordered(route: Route) -> list[RouteStop]:
    return sorted(route.stops, key=lambda s: s.position)


def depots_of(session: Session, route: Route) -> tuple[Depot, Depot]:
    start = session.get(Depot, route.start_depot_id)
    end = session.get(Depot, route.end_depot_id)
    assert start is not None, "routes reference their depots"
    assert end is not None, "routes reference their depots"
    return start, end


def redraw(session: Session, route: Route) -> None:
    """Straight segments from the start depot through the stops to the end depot."""
    start, end = depots_of(session, route)
    points = [Coordinate(start.lat, start.lon)]
    points += [Coordinate(s.lat, s.lon) for s in ordered(route)]
    points.append(Coordinate(end.lat, end.lon))
    route.geometry = line_string(points)


def add_distance(route: Route, vehicle: Vehicle, metres: float, grid_g_per_kwh: float) -> None:
    """Grow (or shrink) the route's distance, and its CO2 and cost with it."""
    km = metres / 1000
    route.distance_m = max(0, route.distance_m + round(metres))
    route.co2_g = max(0.0, route.co2_g + km * co2_g_per_km(vehicle, grid_g_per_kwh))
    route.cost = max(0.0, route.cost + km * vehicle.cost_per_km)


def announce_routes(
    session: Session, broker: Broker, routes: Sequence[Route], change: str, **data: object
) -> None:
    """A ``route`` event per changed route on the fleet channel, once committed."""
    at = iso_z(utcnow())
    items = [
        (
            fleet_channel(route.organization_id),
            LiveEvent(
                "route",
                {"route_id": route.id, "status": route.status.value, "change": change, "at": at}
                | data,
            ),
        )
        for route in routes
    ]
    after_commit(session, lambda: broker.publish_many(items))

"""What a customer may see of their delivery: one order's stop, never anyone else's.

The driver's position is shown only while the driver is heading to this order's stop (every
earlier delivery stop of the route is done); before that, only how many stops come first and
the ETA window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lastmile.fleet.models import Driver, PickupPoint, Vehicle
from lastmile.kit.clock import iso_z
from lastmile.live.latest import LatestPositions, VehiclePosition
from lastmile.orders.models import Order, OrderEvent
from lastmile.orders.status import STATUS_LABELS, OrderStatus
from lastmile.organizations.models import Merchant, Organization
from lastmile.planning.models import Route, RouteStatus, RouteStop, StopStatus

ON_THE_WAY = frozenset({OrderStatus.out_for_delivery, OrderStatus.arriving})


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return iso_z(moment)


def stops_before(stops: Sequence[RouteStop], stop: RouteStop) -> int:
    """Delivery stops of the route still to be served before ``stop``."""
    return sum(
        1
        for s in stops
        if s.position < stop.position and s.kind == "stop" and s.status is not StopStatus.departed
    )


def driver_visible(route: Route, stops: Sequence[RouteStop], stop: RouteStop, order: Order) -> bool:
    """Whether this order's customer may see the driver now."""
    return (
        route.status is RouteStatus.in_progress
        and order.status in ON_THE_WAY
        and stop.status is not StopStatus.departed
        and stops_before(stops, stop) == 0
    )


def _nearest(coords: Sequence[Sequence[float]], lat: float, lon: float, lo: int, hi: int) -> int:
    scale = math.cos(math.radians(lat))
    best, best_d = lo, math.inf
    for i in range(lo, hi):
        c_lon, c_lat = coords[i][0], coords[i][1]
        d = (c_lat - lat) ** 2 + ((c_lon - lon) * scale) ** 2
        if d < best_d:
            best, best_d = i, d
    return best


def _passed(a: Sequence[float], b: Sequence[float], point: tuple[float, float]) -> bool:
    """Whether ``point`` (lat, lon) lies past vertex ``a`` on the segment towards ``b``."""
    scale = math.cos(math.radians(point[0]))
    ax, ay = a[0] * scale, a[1]
    bx, by = b[0] * scale, b[1]
    px, py = point[1] * scale, point[0]
    return (px - ax) * (bx - ax) + (py - ay) * (by - ay) > 0


def remaining_path(
    geometry: dict[str, Any] | None,
    previous: tuple[float, float] | None,
    target: tuple[float, float],
    driver: tuple[float, float],
) -> list[list[float]]:
    """The route geometry from the driver to ``target`` as ``[lat, lon]`` pairs.

    Only the leg from the previous stop to ``target`` is searched, so the path never shows
    where the route went before or goes after this customer.
    """
    coords: list[list[float]] = list((geometry or {}).get("coordinates") or [])
    if len(coords) < 2:
        return [[driver[0], driver[1]], [target[0], target[1]]]
    start = _nearest(coords, *previous, 0, len(coords)) if previous else 0
    end = _nearest(coords, *target, start, len(coords))
    here = _nearest(coords, *driver, start, end + 1)
    if here < end and _passed(coords[here], coords[here + 1], driver):
        here += 1  # the driver is already beyond the nearest vertex: don't draw backwards
    leg = [[c[1], c[0]] for c in coords[here : end + 1]]
    return [[driver[0], driver[1]], *leg, [target[0], target[1]]]


def _destination(session: Session, order: Order) -> dict[str, Any]:
    if order.pickup_point_id:
        point = session.get(PickupPoint, order.pickup_point_id)
        if point is not None:
            return {"lat": point.lat, "lon": point.lon, "label": point.name}
    address = order.address
    label = ", ".join(p for p in (address.line1, address.city) if p)
    return {"lat": address.lat, "lon": address.lon, "label": label}


def route_context(
    session: Session, order: Order
) -> tuple[Route, list[RouteStop], RouteStop] | None:
    if order.route_id is None or order.stop_id is None:
        return None
    route = session.scalar(
        select(Route).where(
            Route.id == order.route_id, Route.organization_id == order.organization_id
        )
    )
    if route is None:
        return None
    stops = list(route.stops)
    stop = next((s for s in stops if s.id == order.stop_id), None)
    return None if stop is None else (route, stops, stop)


def eta_payload(stop: RouteStop, before: int) -> dict[str, Any] | None:
    if stop.eta_expected is None:
        if stop.status is StopStatus.departed:
            return None
        # Not tracked yet: the plan's time with the customary half-hour either side.
        half = timedelta(minutes=30)
        return {
            "expected": iso(stop.planned_arrival),
            "earliest": iso(stop.planned_arrival - half),
            "latest": iso(stop.planned_arrival + half),
            "at_risk": False,
            "stops_before": before,
        }
    return {
        "expected": iso(stop.eta_expected),
        "earliest": iso(stop.eta_earliest),
        "latest": iso(stop.eta_latest),
        "at_risk": stop.at_risk,
        "stops_before": before,
    }


def driver_payload(
    session: Session, route: Route, position: VehiclePosition | None
) -> dict[str, Any] | None:
    if position is None:
        return None
    driver = session.get(Driver, route.driver_id) if route.driver_id else None
    vehicle = session.get(Vehicle, route.vehicle_id)
    return {
        # First name only: enough to greet, not enough to look someone up.
        "name": driver.name.split()[0] if driver and driver.name else None,
        "vehicle_type": vehicle.type.value if vehicle else None,
        "lat": position.lat,
        "lon": position.lon,
        "heading": position.heading_deg,
        "at": iso(datetime.fromtimestamp(position.t, UTC)),
    }


def customer_snapshot(
    session: Session,
    order: Order,
    latest: LatestPositions,
    *,
    live_url: str,
    tiles: dict[str, str | None],
) -> dict[str, Any]:
    """The whole tracking view of one order, as the page and the API show it."""
    organization = session.get(Organization, order.organization_id)
    merchant = session.get(Merchant, order.merchant_id) if order.merchant_id else None
    window = min(order.windows, key=lambda w: w.starts_at) if order.windows else None
    events = session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.at)
    ).all()
    timeline: list[dict[str, Any]] = []
    for e in events:
        # Status moves only (not edits), each step once.
        if e.from_status is e.to_status or (timeline and timeline[-1]["status"] == e.to_status):
            continue
        timeline.append(
            {"at": iso(e.at), "status": e.to_status.value, "label": STATUS_LABELS[e.to_status]}
        )
    destination = _destination(session, order)
    eta = driver = path = before = None
    context = route_context(session, order)
    if context is not None and order.status not in (OrderStatus.delivered, OrderStatus.cancelled):
        route, stops, stop = context
        before = stops_before(stops, stop)
        eta = eta_payload(stop, before)
        if driver_visible(route, stops, stop, order):
            position = latest.get_many(order.organization_id, [route.vehicle_id]).get(
                route.vehicle_id
            )
            driver = driver_payload(session, route, position)
            if position is not None:
                previous = next(
                    ((s.lat, s.lon) for s in reversed(stops) if s.position < stop.position), None
                )
                path = remaining_path(
                    route.geometry, previous, (stop.lat, stop.lon), (position.lat, position.lon)
                )
    return {
        "order": {
            "id": order.id,
            "reference": order.merchant_reference,
            "status": order.status.value,
            "merchant": merchant.name if merchant else None,
            "delivery_method": order.delivery_method.value,
            "safe_place": order.safe_place.value if order.safe_place else None,
            "safe_place_note": order.safe_place_note,
            "instructions": order.instructions,
            "signature_required": order.signature_required,
            "age_check": order.age_check,
            "promised_window": (
                {"starts_at": iso(window.starts_at), "ends_at": iso(window.ends_at)}
                if window
                else None
            ),
            "destination": destination,
        },
        "timezone": organization.timezone if organization else "UTC",
        "eta": eta,
        "stops_before": before,
        "driver": driver,
        "path": path,
        "timeline": timeline,
        "live_url": live_url,
        "tiles": tiles,
    }

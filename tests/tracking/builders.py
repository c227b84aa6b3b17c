"""A committed route built directly (planning is tested elsewhere and is slow)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from lastmile.auth.principal import Access, Principal
from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.kit.ids import new_id
from lastmile.orders.models import Order
from lastmile.orders.service import OrderService
from lastmile.planning.models import Plan, PlanStatus, Route, RouteStatus, RouteStop
from lastmile.services import Services
from tests.factories import Tenant, order_payload, vehicle_payload


@dataclass
class BuiltRoute:
    route_id: str
    vehicle_id: str
    stop_ids: list[str]
    order_ids: list[str]  # one order per stop, in stop order
    starts_at: datetime


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def committed_route(
    client: httpx.Client,
    db: Database,
    tenant: Tenant,
    points: Sequence[tuple[float, float]],
    *,
    starts_at: datetime | None = None,
    leg_s: float = 300.0,
    service_s: float = 60.0,
    window_h: float = 4.0,
    geometry: dict[str, Any] | None = None,
    leg_seconds: Sequence[float] | None = None,
) -> BuiltRoute:
    """A dispatched route for the tenant's driver: one doorstep order per point, in order.

    Planned times: ``leg_s`` (or ``leg_seconds[i]`` for the leg to stop ``i``) driving between
    consecutive stops and ``service_s`` at each; every
    order is promised a window of ``window_h`` hours from the route's start.
    """
    starts_at = starts_at or datetime.now(UTC) - timedelta(minutes=5)
    window = {"start": iso(starts_at - timedelta(minutes=30)),
              "end": iso(starts_at + timedelta(hours=window_h))}  # fmt: skip
    headers = tenant.headers("dispatcher")
    vehicle = client.post("/v1/vehicles", json=vehicle_payload(tenant.depot_id), headers=headers)
    assert vehicle.status_code == 201, vehicle.text
    vehicle_id = vehicle.json()["id"]
    order_ids = []
    for lat, lon in points:
        body = order_payload(windows=[window])
        body["address"] = body["address"] | {"lat": lat, "lon": lon}
        created = client.post("/v1/orders", json=body, headers=tenant.headers("merchant"))
        assert created.status_code == 201, created.text
        order_ids.append(created.json()["id"])
    principal = Principal(tenant.organization_id, Access.admin, system="test")
    with db.unit_of_work() as session:
        plan = Plan(
            id=new_id("pln"), organization_id=tenant.organization_id,
            service_date=starts_at.date(), status=PlanStatus.committed, request={},
            created_by="test", progress=1.0,
        )  # fmt: skip
        route = Route(
            id=new_id("rte"), organization_id=tenant.organization_id, plan_id=plan.id,
            service_date=starts_at.date(), vehicle_id=vehicle_id, driver_id=tenant.driver_id,
            start_depot_id=tenant.depot_id, end_depot_id=tenant.depot_id,
            status=RouteStatus.dispatched, starts_at=starts_at,
            ends_at=starts_at + timedelta(
                seconds=sum(leg_seconds or [leg_s] * len(points)) + service_s * len(points) + leg_s
            ),
            distance_m=0, duration_s=0, cost=0.0, co2_g=0.0,
            geometry=geometry or {"type": "LineString",
                                  "coordinates": [[lon, lat] for lat, lon in points]},
        )  # fmt: skip
        session.add_all([plan, route])
        session.flush()
        orders = OrderService(
            session, principal, Services.from_settings(Settings(environment="test"))
        )
        stop_ids = []
        t = starts_at
        for position, ((lat, lon), order_id) in enumerate(zip(points, order_ids, strict=True)):
            t += timedelta(seconds=leg_seconds[position] if leg_seconds else leg_s)
            stop = RouteStop(
                id=new_id("stp"), organization_id=tenant.organization_id, route_id=route.id,
                position=position + 1, kind="stop", lat=lat, lon=lon, planned_arrival=t,
                planned_departure=t + timedelta(seconds=service_s), slack_s=0,
                order_ids=[order_id],
            )  # fmt: skip
            t += timedelta(seconds=service_s)
            session.add(stop)
            session.flush()
            stop_ids.append(stop.id)
            order = session.get(Order, order_id)
            assert order is not None
            orders.dispatch(
                order, route_id=route.id, stop_id=stop.id, driver_id=tenant.driver_id,
                vehicle_id=vehicle_id, reason="test route",
            )  # fmt: skip
    return BuiltRoute(route.id, vehicle_id, stop_ids, order_ids, starts_at)

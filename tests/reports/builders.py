"""A tenant with a small mixed fleet and a few past days from the demo history seeder, and
the report worked out from the ORM objects one order at a time (the reference)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from lastmile.db.engine import Database
from lastmile.demo.history import seed_history
from lastmile.driver.models import DeliveryProof, ProofOutcome
from lastmile.feedback.models import Feedback
from lastmile.fleet.models import Vehicle
from lastmile.kit.ids import new_id
from lastmile.orders.models import Order, OrderEvent
from lastmile.orders.status import OrderStatus
from lastmile.planning.models import Route, RouteStatus
from lastmile.reports.metrics import (
    DelayRow,
    OrderRow,
    Outcome,
    RatingRow,
    ReasonRow,
    ReportData,
    RouteRow,
)
from lastmile.reports.schemas import GroupBy
from tests.factories import Tenant, depot_payload, driver_payload, vehicle_payload

TODAY = date(2024, 5, 16)  # a Thursday; the history covers the three days before
FIRST, LAST = TODAY - timedelta(days=3), TODAY - timedelta(days=1)


def seed_fleet(client: httpx.Client | TestClient, tenant: Tenant) -> None:
    """A hub with a cargo bike, and a diesel and an electric van at the depot, each with a
    driver (the tenant's own driver among them)."""
    staff = tenant.headers("admin")
    hub = client.post("/v1/depots", json=depot_payload(lat=41.1468, lon=-8.6092), headers=staff)
    assert hub.status_code == 201, hub.text
    for kind, depot in (("van", tenant.depot_id), ("ev_van", tenant.depot_id),
                        ("cargo_bike", hub.json()["id"])):  # fmt: skip
        body = vehicle_payload(depot, name=f"{kind} 1", type=kind, fixed_cost=30,
                               cost_per_km=0.3, cost_per_hour=20)  # fmt: skip
        assert client.post("/v1/vehicles", json=body, headers=staff).status_code == 201
    for name in ("Ana Lopes", "Rui Sousa"):
        created = client.post("/v1/drivers", json=driver_payload(name=name), headers=staff)
        assert created.status_code == 201, created.text


def seed_days(client: httpx.Client | TestClient, db: Database, tenant: Tenant) -> None:
    """Three past days, then a few twists the seeder never makes: a re-attempted delivery, a
    rescheduled failure and a route still under way with half its stops to go."""
    seed_fleet(client, tenant)
    seed_history(db, tenant.organization_id, days=3, orders_per_day=40, today=TODAY)
    org = tenant.organization_id
    with db.unit_of_work() as s:
        delivered = s.scalars(select(Order).where(Order.organization_id == org,
                                                  Order.status == OrderStatus.delivered)
                              .order_by(Order.merchant_reference)).all()  # fmt: skip
        again = delivered[0]
        s.add(OrderEvent(id=new_id("evt"), organization_id=org, order_id=again.id,
                         at=delivered[1].created_at, from_status=OrderStatus.arriving,
                         to_status=OrderStatus.failed, actor="test", details={}))  # fmt: skip
        failed = s.scalars(
            select(Order).where(Order.organization_id == org, Order.status == OrderStatus.failed)
        ).first()
        assert failed is not None
        failed.status = OrderStatus.rescheduled
        route = s.scalars(select(Route).where(Route.organization_id == org,
                                              Route.service_date == LAST)
                          .order_by(Route.distance_m.desc())).first()  # fmt: skip
        assert route is not None
        route.status = RouteStatus.in_progress
        late = [stop for stop in route.stops if stop.position > len(route.stops) // 2]
        for stop in late:
            stop.arrived_at = stop.departed_at = None
        s.execute(update(Order).where(Order.stop_id.in_([stop.id for stop in late]))
                  .values(status=OrderStatus.out_for_delivery))  # fmt: skip


def _minutes(seconds: float) -> int:
    """Rounded half away from zero, like SQL's round()."""
    return int(math.copysign(math.floor(abs(seconds) / 60 + 0.5), seconds))


def reference(db: Database, organization_id: str, group_by: GroupBy, first: date,
              last: date) -> ReportData:  # fmt: skip
    """The report's rows built one ORM object at a time, without any SQL aggregation."""
    with db.unit_of_work(readonly=True) as s:
        vehicles = {v.id: v for v in s.scalars(select(Vehicle))}
        routes = {r.id: r for r in s.scalars(select(Route).where(
            Route.organization_id == organization_id, Route.service_date >= first,
            Route.service_date <= last))}  # fmt: skip

        def key(route: Route) -> Any:
            return {GroupBy.day: route.service_date.isoformat(), GroupBy.hub: route.start_depot_id,
                    GroupBy.vehicle_type: vehicles[route.vehicle_id].type.value,
                    GroupBy.driver: route.driver_id}[group_by]  # fmt: skip

        order_rows: list[OrderRow] = []
        route_rows: list[RouteRow] = []
        reasons: list[ReasonRow] = []
        ratings: list[RatingRow] = []
        delays: list[DelayRow] = []
        orders = s.scalars(select(Order).where(Order.route_id.in_(list(routes)))).all()
        for o in orders:
            route = routes[o.route_id or ""]
            events = s.scalars(select(OrderEvent).where(OrderEvent.order_id == o.id)).all()
            moves = [e for e in events if e.from_status is not None]
            proofs = s.scalars(select(DeliveryProof).where(DeliveryProof.order_id == o.id)).all()
            captured = [p.captured_at for p in proofs if p.outcome is ProofOutcome.delivered]
            moved = [e.at for e in moves if e.to_status is OrderStatus.delivered]
            delivered_at = min(captured) if captured else max(moved, default=None)
            window = next((w for w in o.windows if w.position == 0), None)
            on_time = None
            if o.status is OrderStatus.delivered and window is not None:
                on_time = (delivered_at is not None
                           and window.starts_at <= delivered_at <= window.ends_at)  # fmt: skip
            outcome = (Outcome.delivered if o.status is OrderStatus.delivered else Outcome.failed
                       if o.status in (OrderStatus.failed, OrderStatus.rescheduled,
                                       OrderStatus.returned) else Outcome.open)  # fmt: skip
            first_attempt = not any(e.to_status is OrderStatus.failed for e in moves)
            kind = vehicles[route.vehicle_id].type.value
            order_rows.append(
                OrderRow(key(route), kind, outcome, first_attempt, on_time, 1, len(o.parcels))
            )
            rated = s.scalars(select(Feedback).where(Feedback.order_id == o.id)).first()
            if rated is not None:
                ratings.append(RatingRow(key(route), rated.rating))
        for route in routes.values():
            vehicle = vehicles[route.vehicle_id]
            stops = [stop for stop in route.stops if stop.kind == "stop"]
            visited = [stop for stop in stops if stop.arrived_at or stop.departed_at]
            route_rows.append(RouteRow(
                key(route), vehicle.type.value, route.distance_m, route.duration_s, len(stops),
                len(visited), route.status is RouteStatus.completed, vehicle.fixed_cost,
                vehicle.cost_per_km, vehicle.cost_per_hour, vehicle.co2_g_per_km,
                vehicle.energy_kwh_per_km))  # fmt: skip
            for stop in stops:
                if stop.arrived_at is not None:
                    late = (stop.arrived_at - stop.planned_arrival).total_seconds()
                    delays.append(DelayRow(key(route), _minutes(late)))
            failures = s.scalars(select(DeliveryProof).where(
                DeliveryProof.route_id == route.id,
                DeliveryProof.outcome == ProofOutcome.failed)).all()  # fmt: skip
            for proof in failures:
                reason = proof.reason.value if proof.reason else "unspecified"
                reasons.append(ReasonRow(key(route), reason))
        return ReportData(order_rows, route_rows, reasons, ratings, delays)

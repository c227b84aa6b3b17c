"""Load a :class:`DemoCity` into a database through the same services the API uses, plan part
of its day and issue tracking links: what ``lastmile demo`` sets up before it serves."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from lastmile.auth import service as auth
from lastmile.auth.models import Role
from lastmile.auth.principal import Access, Principal
from lastmile.auth.repository import find_user_by_email
from lastmile.crud import Resource, ResourceService
from lastmile.db.engine import Database
from lastmile.demo.city import TIMEZONE, DemoCity
from lastmile.fleet.endpoints import DEPOTS, DRIVERS, PICKUP_POINTS, SHIFTS, VEHICLES
from lastmile.fleet.models import Driver, Vehicle
from lastmile.orders.intake import check_orders, insert_rows
from lastmile.orders.repository import OrderRepository
from lastmile.orders.schemas import OrderCreate
from lastmile.orders.service import OrderService
from lastmile.organizations.endpoints import MERCHANTS
from lastmile.organizations.service import create_organization
from lastmile.planning.models import PlanStatus, Route, RouteStatus, RouteStop
from lastmile.planning.runner import PlanRunner
from lastmile.planning.schemas import PlanRequest, PlanSummary
from lastmile.planning.service import PlanningService, RouteRepository
from lastmile.planning.solve import SolveSettings
from lastmile.services import Services
from lastmile.tracking.links import issue_link

DEMO_PASSWORD = "lastmile-demo"  # noqa: S105 - printed for the demo on purpose


@dataclass
class DemoLogins:
    organization_id: str
    users: dict[str, str] = field(default_factory=dict)  # role -> email
    password: str = DEMO_PASSWORD
    merchant_keys: dict[str, str] = field(default_factory=dict)  # merchant name -> API key
    order_ids: list[str] = field(default_factory=list)
    vehicle_ids: list[str] = field(default_factory=list)  # in the city's order


def _create(resource: Resource[Any], svc_args: tuple[Any, ...], body: dict[str, Any]) -> str:
    service = ResourceService(resource, *svc_args)
    payload: BaseModel = resource.create_schema.model_validate(body)
    return str(service.create(payload).id)


def load_city(
    db: Database,
    services: Services,
    city: DemoCity,
    *,
    progress: Callable[[int], None] | None = None,
    batch_size: int = 500,
) -> DemoLogins:
    """Create the organization and everything in ``city``; returns the logins to print."""
    with db.unit_of_work() as session:
        org = create_organization(session, "Lastmile Demo Porto", TIMEZONE.key)
        logins = DemoLogins(organization_id=org.id)
        for role in Role:
            email = f"{role.value}@demo.lastmile.dev"
            auth.create_user(
                session,
                org.id,
                email=email,
                name=f"Demo {role.value}",
                role=role,
                password=DEMO_PASSWORD,
            )
            logins.users[role.value] = email
        admin = Principal(organization_id=org.id, access=Access.admin, user_id="demo-loader")
        args = (session, admin, services)
        merchant_ids = []
        for name in city.merchants:
            merchant_id = _create(MERCHANTS, args, {"name": name})
            merchant_ids.append(merchant_id)
            logins.merchant_keys[name] = auth.create_api_key(
                session, org.id, merchant_id, "demo"
            ).secret
        depot_ids = [_create(DEPOTS, args, depot) for depot in city.depots]
        for vehicle in city.vehicles:
            body = {k: v for k, v in vehicle.items() if k != "home_depot"}
            logins.vehicle_ids.append(
                _create(VEHICLES, args, body | {"home_depot_id": depot_ids[vehicle["home_depot"]]})
            )
        driver_user = find_user_by_email(session, logins.users["driver"])
        for i, driver in enumerate(city.drivers):
            body = {k: v for k, v in driver.items() if k not in ("home_depot", "shift")}
            body["home_depot_id"] = depot_ids[driver["home_depot"]]
            if i == 0 and driver_user is not None:
                body["user_id"] = driver_user.id  # the demo driver login drives route 1
            driver_id = _create(DRIVERS, args, body)
            _create(SHIFTS, args, driver["shift"] | {"driver_id": driver_id})
        point_ids = [_create(PICKUP_POINTS, args, point) for point in city.pickup_points]
        intake_ctx = OrderService(session, admin, services).intake_context()

    for start in range(0, len(city.orders), batch_size):
        chunk = city.orders[start : start + batch_size]
        items: list[tuple[int | None, OrderCreate]] = []
        for n, raw in enumerate(chunk, start=start + 1):
            body = {k: v for k, v in raw.items() if k != "merchant"}
            body["merchant_id"] = merchant_ids[raw["merchant"]]
            if "pickup_point_id" in raw:
                body["pickup_point_id"] = point_ids[raw["pickup_point_id"]]
            items.append((n, OrderCreate.model_validate(body)))
        with db.unit_of_work() as session:
            ctx = replace(intake_ctx, session=session)
            intake = check_orders(ctx, items)
            if intake.errors:
                raise ValueError(f"demo orders invalid: {intake.errors[:3]}")
            insert_rows(session, intake)
            logins.order_ids += intake.order_ids
        if progress:
            progress(len(chunk))
    return logins


@dataclass(frozen=True)
class DemoPlan:
    plan_id: str
    routes: int
    orders: int
    assigned: int


def live_fleet(city: DemoCity, vehicle_ids: Sequence[str], count: int) -> list[str]:
    """``count`` vehicles, taken in turn from each type with a driver (vans, EVs, bikes)."""
    by_type: dict[str, list[str]] = {}
    for vehicle, vehicle_id in zip(city.vehicles, vehicle_ids, strict=True):
        if vehicle["type"] != "drone":  # drones fly without a driver to show on a page
            by_type.setdefault(vehicle["type"], []).append(vehicle_id)
    chosen: list[str] = []
    while len(chosen) < count and any(by_type.values()):
        for ids in by_type.values():
            if ids and len(chosen) < count:
                chosen.append(ids.pop(0))
    return chosen


def live_orders(city: DemoCity, order_ids: Sequence[str], count: int) -> list[str]:
    """The first ``count`` orders without a delivery window: routes of only these run on from
    the start of their shifts, where a window hours ahead would park a vehicle until then."""
    return [
        order_id
        for order, order_id in zip(city.orders, order_ids, strict=True)
        if not order.get("windows")
    ][:count]


def plan_day(
    db: Database,
    services: Services,
    solve: SolveSettings,
    organization_id: str,
    request: PlanRequest,
    *,
    progress: Callable[[float], None] | None = None,
) -> DemoPlan:
    """Plan ``request`` through the planning service (search in this process) and commit it:
    the routes are dispatched to their drivers, like ``lastmile plan --commit``."""
    principal = Principal(organization_id, Access.admin, system="demo")
    runner = PlanRunner(db, solve, in_process=True)
    try:
        with db.unit_of_work() as session:
            plan_id = PlanningService(session, principal, services, runner).start(request).id
        while True:
            with db.unit_of_work(readonly=True) as session:
                plan = PlanningService(session, principal, services, runner).get(plan_id)
            if progress is not None:
                progress(plan.progress)
            if plan.status in (PlanStatus.succeeded, PlanStatus.failed):
                break
            time.sleep(0.5)
        if plan.status is PlanStatus.failed or plan.summary is None:
            raise RuntimeError(f"planning the demo day failed: {plan.message}")
        with db.unit_of_work() as session:
            PlanningService(session, principal, services, runner).commit(plan_id)
    finally:
        runner.shutdown()
    summary = PlanSummary.model_validate(plan.summary)
    return DemoPlan(plan_id, summary.vehicles, summary.orders, summary.assigned)


@dataclass(frozen=True)
class DemoLink:
    url: str
    route_id: str
    order_id: str
    reference: str | None
    vehicle: str
    stops_before: int
    planned_arrival: datetime


def issue_links(
    db: Database,
    organization_id: str,
    base_url: str,
    ttl: timedelta,
    *,
    after: datetime,
    ahead: Sequence[int] = (1, 3, 5),
    skip: Sequence[str] = (),
) -> list[DemoLink]:
    """Tracking links on different routes (but those in ``skip``), for orders ``ahead[k]``
    stops after where the k-th busiest route's vehicle will be at ``after`` (routes with the
    soonest next stops first)."""
    principal = Principal(organization_id, Access.admin, system="demo")
    links: list[DemoLink] = []
    with db.unit_of_work() as session:
        upcoming: list[tuple[Route, list[RouteStop]]] = []
        for route in session.scalars(RouteRepository(session, principal).scoped()):
            if route.id in skip:
                continue
            stops = [s for s in route.stops if s.kind == "stop" and s.planned_arrival > after]
            if stops:
                upcoming.append((route, stops))
        upcoming.sort(key=lambda item: (item[1][min(1, len(item[1]) - 1)].planned_arrival,
                                        item[0].id))  # fmt: skip
        for (route, stops), stops_ahead in zip(upcoming, ahead, strict=False):
            stop = stops[min(stops_ahead, len(stops) - 1)]
            order = OrderRepository(session, principal).get(stop.order_ids[0])
            if order is None:
                continue
            issued = issue_link(session, principal, order.id, ttl)
            vehicle = session.get(Vehicle, route.vehicle_id)
            links.append(
                DemoLink(
                    url=f"{base_url.rstrip('/')}/t/{issued.token}",
                    route_id=route.id,
                    order_id=order.id,
                    reference=order.merchant_reference,
                    vehicle=vehicle.name if vehicle else route.vehicle_id,
                    stops_before=sum(
                        1
                        for s in route.stops
                        if s.kind == "stop"
                        and s.position < stop.position
                        and s.planned_departure > after
                    ),
                    planned_arrival=stop.planned_arrival,
                )
            )
    return links


@dataclass(frozen=True)
class DemoHandover:
    """The route the demo's driver login drives by hand in the driver app."""

    route_id: str
    vehicle: str
    stops: int


def hand_route_to_login(
    db: Database, organization_id: str, email: str, *, after: datetime
) -> DemoHandover | None:
    """Link the driver login ``email`` to the driver of the dispatched route with the most
    stops after ``after``, so a person can deliver it in /driver while the simulator drives
    the others (tracking links are then issued on those: ``issue_links(skip=...)``)."""
    principal = Principal(organization_id, Access.admin, system="demo")
    with db.unit_of_work() as session:
        user = find_user_by_email(session, email)
        dispatched = (
            RouteRepository(session, principal)
            .scoped()
            .where(Route.status == RouteStatus.dispatched, Route.driver_id.is_not(None))
        )
        candidates = [
            (sum(1 for s in route.stops if s.kind == "stop" and s.planned_arrival > after), route)
            for route in session.scalars(dispatched)
        ]
        candidates = [(stops, route) for stops, route in candidates if stops]
        if user is None or not candidates:
            return None
        stops, route = max(candidates, key=lambda item: (item[0], item[1].id))
        for linked in session.scalars(select(Driver).where(Driver.user_id == user.id)):
            linked.user_id = None
        session.flush()
        driver = session.get(Driver, route.driver_id)
        if driver is None:
            return None
        driver.user_id = user.id
        vehicle = session.get(Vehicle, route.vehicle_id)
        return DemoHandover(route.id, vehicle.name if vehicle else route.vehicle_id, stops)

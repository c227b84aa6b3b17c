"""The driver's day as the app shows it: routes, stops in order, orders, load-out state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, selectinload

from lastmile.auth.principal import Access, Principal
from lastmile.config import Settings
from lastmile.customers.models import Address, Customer
from lastmile.customers.repository import CustomerRepository
from lastmile.driver import schemas as s
from lastmile.driver.models import DeliveryProof, ProofOutcome
from lastmile.driver.repository import (
    CallerRoutes,
    DeliveryProofRepository,
    ParcelScanRepository,
    RouteLoadoutRepository,
)
from lastmile.driver.rules import policy, requirements
from lastmile.fleet.models import Depot, PickupPoint
from lastmile.fleet.repository import DepotRepository, PickupPointRepository, VehicleRepository
from lastmile.kit.clock import utcnow
from lastmile.kit.errors import Forbidden, NotFound, Unprocessable, field_error
from lastmile.orders.models import Order
from lastmile.orders.repository import OrderRepository
from lastmile.organizations.repository import get_organization
from lastmile.planning.models import Route, RouteStop


def navigation(lat: float, lon: float, label: str, template: str) -> s.Navigation:
    """Links that open turn-by-turn navigation to (lat, lon): a ``geo:`` URI and a web URL."""
    point = f"{lat:.6f},{lon:.6f}"
    name = quote(label, safe="")
    maps = template.replace("{lat}", f"{lat:.6f}").replace("{lon}", f"{lon:.6f}")
    return s.Navigation(
        geo=f"geo:{point}?q={point}({name})", maps_url=maps.replace("{label}", name)
    )


def address_text(address: Address) -> str:
    town = " ".join(p for p in (address.postcode, address.city) if p)
    return ", ".join(p for p in (address.line1, address.line2, town) if p)


def first_name(name: str) -> str:
    """Only what the driver needs to greet the customer (privacy)."""
    parts = name.split()
    return parts[0] if parts else ""


class TodayService:
    """Reads only; the caller's scope decides which routes and orders it sees."""

    def __init__(self, session: Session, principal: Principal, settings: Settings) -> None:
        self.session = session
        self.principal = principal
        self.settings = settings
        self.routes = CallerRoutes(session, principal)

    def today(self, day: date | None, driver_id: str | None) -> s.Today:
        if self.principal.access is Access.driver:
            if driver_id is not None and driver_id != self.principal.driver_id:
                raise Forbidden("Drivers see their own day only.")
            driver_id = self.principal.driver_id
        elif driver_id is None:
            raise Unprocessable(
                "Say whose day to show (driver_id).",
                errors=[field_error(["query", "driver_id"], "required for staff")],
            )
        timezone = ZoneInfo(get_organization(self.session, self.principal.organization_id).timezone)
        day = day or utcnow().astimezone(timezone).date()
        return s.Today(
            date=day, timezone=timezone.key, policy=policy(self.settings),
            routes=self.describe(self._routes(day, driver_id)),
        )  # fmt: skip

    def order_ids(self) -> list[str]:
        """The orders on the calling driver's routes today (what its live stream follows)."""
        timezone = ZoneInfo(get_organization(self.session, self.principal.organization_id).timezone)
        day = utcnow().astimezone(timezone).date()
        routes = self._routes(day, self.principal.driver_id)
        return [o for r in routes for stop in r.stops for o in stop.order_ids]

    def _routes(self, day: date, driver_id: str | None) -> list[Route]:
        stmt = self.routes.scoped().where(Route.service_date == day, Route.driver_id == driver_id)
        return list(self.session.scalars(stmt.order_by(Route.starts_at, Route.id)))

    def route(self, route_id: str) -> s.DriverRoute:
        route = self.routes.get(route_id)
        if route is None:
            raise NotFound(f"No route {route_id!r}.")
        return self.describe([route])[0]

    def describe(self, routes: Sequence[Route]) -> list[s.DriverRoute]:
        """The routes in the app's shape, read in a handful of queries whatever their size."""
        if not routes:
            return []
        route_ids = [r.id for r in routes]
        orders = {
            o.id: o
            for o in self.session.scalars(
                OrderRepository(self.session, self.principal)
                .scoped()
                .where(Order.route_id.in_(route_ids))
                .options(selectinload(Order.parcels))
            )
        }
        customers = {
            c.id: c
            for c in CustomerRepository(self.session, self.principal).get_many(
                sorted({o.customer_id for o in orders.values()})
            )
        }
        points = {
            p.id: p
            for p in PickupPointRepository(self.session, self.principal).get_many(
                sorted({o.pickup_point_id for o in orders.values() if o.pickup_point_id})
            )
        }
        depot_ids = {r.start_depot_id for r in routes} | {
            stop.depot_id for r in routes for stop in r.stops if stop.depot_id
        }
        depots = {
            d.id: d
            for d in DepotRepository(self.session, self.principal).get_many(sorted(depot_ids))
        }
        vehicles = {
            v.id: v
            for v in VehicleRepository(self.session, self.principal).get_many(
                sorted({r.vehicle_id for r in routes})
            )
        }
        scanned = ParcelScanRepository(self.session, self.principal).scanned(route_ids)
        loadouts = RouteLoadoutRepository(self.session, self.principal).of_routes(route_ids)
        outcomes = _latest_outcomes(
            DeliveryProofRepository(self.session, self.principal).on_routes(route_ids)
        )
        view = _View(self.settings, orders, customers, points, depots, outcomes)
        described = []
        for route in routes:
            on_route = [orders[o] for stop in route.stops for o in stop.order_ids if o in orders]
            parcels = [p for order in on_route for p in order.parcels]
            loadout = loadouts.get(route.id)
            vehicle = vehicles[route.vehicle_id]
            depot = depots[route.start_depot_id]
            described.append(
                s.DriverRoute(
                    id=route.id, status=route.status, service_date=route.service_date,
                    starts_at=route.starts_at, ends_at=route.ends_at,
                    vehicle=s.VehicleBrief(id=vehicle.id, name=vehicle.name, type=vehicle.type),
                    depot=s.DepotBrief(id=depot.id, name=depot.name, lat=depot.lat,
                                       lon=depot.lon, address=depot.address),
                    loadout=s.Loadout(
                        expected=len(parcels),
                        scanned=sum(1 for p in parcels if p.id in scanned[route.id]),
                        missing=[p.barcode for p in parcels if p.id not in scanned[route.id]],
                        completed_at=loadout.completed_at if loadout else None,
                    ),
                    stops=[view.stop(route.id, stop) for stop in route.stops],
                )
            )  # fmt: skip
        return described


Outcomes = dict[tuple[str | None, str], ProofOutcome]
PROOF_STATUS: dict[ProofOutcome | None, s.ProofStatus] = {
    None: "none",
    ProofOutcome.delivered: "delivered",
    ProofOutcome.failed: "failed",
}


def _latest_outcomes(proofs: Sequence[DeliveryProof]) -> Outcomes:
    """The outcome of the last attempt at each order on each route (proofs oldest first)."""
    return {(p.route_id, p.order_id): p.outcome for p in proofs}


class _View:
    """Turns rows already read into the app's stops and orders."""

    def __init__(
        self,
        settings: Settings,
        orders: dict[str, Order],
        customers: dict[str, Customer],
        points: dict[str, PickupPoint],
        depots: dict[str, Depot],
        outcomes: Outcomes,
    ) -> None:
        self.settings = settings
        self.orders = orders
        self.customers = customers
        self.points = points
        self.depots = depots
        self.outcomes = outcomes

    def stop(self, route_id: str, stop: RouteStop) -> s.DriverStop:
        orders = [self.orders[o] for o in stop.order_ids if o in self.orders]
        label = self._label(stop, orders)
        return s.DriverStop(
            id=stop.id, position=stop.position, kind=stop.kind, lat=stop.lat, lon=stop.lon,
            label=label, planned_arrival=stop.planned_arrival,
            planned_departure=stop.planned_departure, status=stop.status,
            arrived_at=stop.arrived_at, departed_at=stop.departed_at,
            eta_earliest=stop.eta_earliest, eta_expected=stop.eta_expected,
            eta_latest=stop.eta_latest, at_risk=stop.at_risk,
            navigation=navigation(stop.lat, stop.lon, label, self.settings.maps_url_template),
            orders=[self._order(route_id, order) for order in orders],
        )  # fmt: skip

    def _label(self, stop: RouteStop, orders: Sequence[Order]) -> str:
        if stop.depot_id is not None and stop.depot_id in self.depots:
            return self.depots[stop.depot_id].name
        if not orders:
            return f"Stop {stop.position}"
        first = orders[0]
        point = self.points.get(first.pickup_point_id or "")
        if point is not None:
            return point.name
        return ", ".join(p for p in (first.address.line1, first.address.city) if p)

    def _order(self, route_id: str, order: Order) -> s.StopOrder:
        customer = self.customers.get(order.customer_id)
        point = self.points.get(order.pickup_point_id or "")
        address = order.address
        return s.StopOrder(
            id=order.id, merchant_reference=order.merchant_reference, status=order.status,
            customer_first_name=first_name(customer.name) if customer else "",
            customer_language=customer.language if customer else "en",
            address=s.AddressBrief(
                text=address_text(address), line1=address.line1, line2=address.line2,
                postcode=address.postcode, city=address.city,
                access_notes=address.access_notes,
            ),
            parcels=[s.ParcelBrief(id=p.id, barcode=p.barcode, weight_kg=p.weight_kg)
                     for p in order.parcels],
            delivery_method=order.delivery_method,
            pickup_point=None if point is None else s.PickupPointBrief(
                id=point.id, name=point.name, kind=point.kind, lat=point.lat, lon=point.lon,
                address=point.address,
            ),
            safe_place=order.safe_place, safe_place_note=order.safe_place_note,
            instructions=order.instructions, signature_required=order.signature_required,
            age_check=order.age_check, requires=requirements(order, self.settings),
            proof_status=PROOF_STATUS[self.outcomes.get((route_id, order.id))],
        )  # fmt: skip

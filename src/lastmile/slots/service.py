"""Slot rules: quote windows for an address, offer them to an order, book and release places.

Never commits: the caller's unit of work does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from lastmile.auth.principal import Access, Principal
from lastmile.customers.service import geocoding_error
from lastmile.fleet.models import Vehicle
from lastmile.fleet.repository import DepotRepository, PickupPointRepository, VehicleRepository
from lastmile.kit.clock import iso_z, utcnow
from lastmile.kit.errors import Conflict, Unprocessable, field_error
from lastmile.kit.ids import new_id
from lastmile.notifications.outbox import NotificationEvent, enqueue_event
from lastmile.orders.models import (
    DeliveryMethod,
    DeliveryWindow,
    Order,
    OrderEvent,
    ServiceLevel,
)
from lastmile.orders.service import OrderService
from lastmile.orders.status import OrderStatus
from lastmile.organizations.repository import get_organization
from lastmile.planning.assemble import HANDLING_BY_METHOD, local_midnight
from lastmile.planning.models import RouteStop
from lastmile.routing.geo import great_circle_m, haversine_m
from lastmile.routing.haversine import DEFAULT_STRAIGHT_LINE_SPEEDS
from lastmile.routing.problem import Load
from lastmile.routing.profiles import RoutingProfile
from lastmile.routing.service_time import service_time
from lastmile.services import Services
from lastmile.slots.insertion import cheapest_insertions
from lastmile.slots.models import SlotBooking, SlotPolicy
from lastmile.slots.policy import SlotPolicyRules, SlotReason, parse_slot_id, slot_id
from lastmile.slots.repository import (
    DayPlan,
    PlanReader,
    SlotBookingRepository,
    SlotCounterRepository,
    SlotPolicyRepository,
    co2_g_per_km,
)
from lastmile.slots.schemas import QuoteRequest

# Orders that may still take a slot; an order on a committed route only keeps its stop.
BOOKABLE = frozenset(
    {
        OrderStatus.created,
        OrderStatus.planned,
        OrderStatus.rescheduled,
        OrderStatus.dispatched,
        OrderStatus.out_for_delivery,
    }
)
# Orders on a committed route: the slot must hold their stop's planned arrival.
ON_A_ROUTE = frozenset({OrderStatus.dispatched, OrderStatus.out_for_delivery})


class SlotFull(Conflict):
    slug, title = "slot-full", "Slot full"


class SlotUnavailable(Conflict):
    slug, title = "slot-unavailable", "Slot not available"


@dataclass(frozen=True)
class SlotOffer:
    """One window as offered for an address or an order."""

    slot_id: str
    service_date: date
    starts_at: datetime
    ends_at: datetime
    area_id: str
    feasible: bool
    reason: SlotReason | None
    remaining: int
    capacity: int
    price: Decimal
    currency: str
    green: bool
    extra_km: float | None
    extra_co2_g: float | None
    booked: bool = False


@dataclass(frozen=True)
class Quote:
    lat: float
    lon: float
    area_id: str
    offers: list[SlotOffer]


@dataclass(frozen=True)
class Insertion:
    """Where a delivery fits into a committed route most cheaply, and what it costs."""

    route_id: str
    after_stop_id: str | None  # None: straight after the start depot
    before_stop_id: str | None  # None: just before the route's end
    arrival: datetime
    service_start: datetime
    detour_m: float
    added_s: float
    co2_g: float


@dataclass(frozen=True)
class Delivery:
    """What a feasibility check needs to know about a delivery."""

    lat: float
    lon: float
    load: Load
    service_s: int
    same_day: bool
    order_id: str | None = None


@dataclass(frozen=True)
class _Reach:
    """For each window of a day: can a vehicle serve it, and the extra distance and CO2."""

    possible: list[bool]
    detour_m: list[float | None]
    co2_g: list[float | None]

    def at(self, window: int) -> tuple[bool, float | None, float | None]:
        return self.possible[window], self.detour_m[window], self.co2_g[window]


def handling_seconds(method: DeliveryMethod, parcels: int, *, age_check: bool = False) -> int:
    timing = service_time(HANDLING_BY_METHOD[method], parcels, age_check=age_check)
    return timing.setup_s + timing.service_s


class SlotService:
    """Quotes, offers, bookings and the organization's slot policy."""

    def __init__(self, session: Session, principal: Principal, services: Services) -> None:
        self.session = session
        self.principal = principal
        self.services = services
        self.policies = SlotPolicyRepository(session, principal)
        self.counters = SlotCounterRepository(session, principal)
        self.bookings = SlotBookingRepository(session, principal)
        self.plans = PlanReader(session, principal, services.settings.grid_kg_co2e_per_kwh)
        self.tz = ZoneInfo(get_organization(session, principal.organization_id).timezone)

    # --- policy ---------------------------------------------------------------------------

    def policy(self) -> SlotPolicyRules:
        row = self.policies.current()
        return SlotPolicyRules() if row is None else SlotPolicyRules.model_validate(row.rules)

    def set_policy(self, rules: SlotPolicyRules) -> SlotPolicyRules:
        known = {d.id for d in DepotRepository(self.session, self.principal).all()}
        unknown = sorted(set(rules.depot_capacity) - known)
        if unknown:
            raise Unprocessable(
                f"unknown depots in depot_capacity: {', '.join(unknown)}",
                errors=[field_error(["depot_capacity", d], "unknown depot") for d in unknown],
            )
        row = self.policies.current()
        if row is None:
            row = self.policies.add(SlotPolicy(id=new_id("spl"), rules={}))
        row.rules = rules.model_dump(mode="json")
        self.session.flush()
        return rules

    # --- quotes and offers ----------------------------------------------------------------

    def quote(self, request: QuoteRequest) -> Quote:
        """Every window of the days the service level allows, each with its feasibility."""
        rules = self.policy()
        if request.service_level not in rules.service_levels:
            offered = ", ".join(rules.service_levels)
            raise Unprocessable(
                f"service level {request.service_level.value} is not offered ({offered})",
                errors=[field_error(["service_level"], f"not offered; one of: {offered}")],
            )
        lat, lon = self._locate(request)
        delivery = Delivery(
            lat, lon,
            Load(request.parcels.count, request.parcels.weight_kg, request.parcels.volume_litres),
            handling_seconds(request.delivery_method, request.parcels.count),
            same_day=request.service_level is ServiceLevel.same_day,
        )  # fmt: skip
        days = self._days(rules, request.service_level, request.from_date, request.to_date)
        area_id, offers = self._offers(rules, delivery, days)
        return Quote(lat, lon, area_id, offers)

    def offers_for_order(self, order: Order, days: int | None = None) -> list[SlotOffer]:
        """The windows ``order`` could move to, from today on, its own place counted free."""
        rules = self.policy()
        today = utcnow().astimezone(self.tz).date()
        horizon = [today + timedelta(days=d) for d in range(days or rules.days_ahead)]
        current = self.bookings.for_order(order.id)
        _, offers = self._offers(
            rules,
            self._delivery(order),
            horizon,
            own_counter=current.counter_id if current else None,
        )
        if current is None:
            return offers
        return [replace(o, booked=o.slot_id == current.slot_id) for o in offers]

    def _locate(self, request: QuoteRequest) -> tuple[float, float]:
        if request.location is not None:
            return request.location.lat, request.location.lon
        assert request.address is not None
        values = request.address.model_dump()
        error = geocoding_error(values, self.services.geocoder)
        if error is not None:
            located = field_error(["address", "lat"], error.message)
            raise Unprocessable(error.message, errors=[located])
        return float(values["lat"]), float(values["lon"])

    def _days(
        self, rules: SlotPolicyRules, level: ServiceLevel, first: date | None, last: date | None
    ) -> list[date]:
        today = utcnow().astimezone(self.tz).date()
        horizon_end = today + timedelta(days=rules.days_ahead - 1)
        for name, value in (("from_date", first), ("to_date", last)):
            if value is not None and not today <= value <= horizon_end:
                raise Unprocessable(
                    f"{name} must be between {today} and {horizon_end}",
                    errors=[field_error([name], f"outside {today} .. {horizon_end}")],
                )
        if level is ServiceLevel.same_day:
            days = [today]
        elif level is ServiceLevel.next_day:
            days = [today + timedelta(days=1)]
        else:
            days = [today + timedelta(days=d) for d in range(rules.days_ahead)]
        return [d for d in days if (first is None or d >= first) and (last is None or d <= last)]

    def _delivery(self, order: Order, at: tuple[float, float] | None = None) -> Delivery:
        if at is None:
            at = (order.address.lat, order.address.lon)
            if order.pickup_point_id is not None:
                point = PickupPointRepository(self.session, self.principal).get(
                    order.pickup_point_id
                )
                if point is not None:
                    at = (point.lat, point.lon)
        parcels = order.parcels
        return Delivery(
            at[0], at[1],
            Load(len(parcels), sum(p.weight_kg for p in parcels),
                 sum(p.volume_litres for p in parcels)),
            handling_seconds(order.delivery_method, len(parcels), age_check=order.age_check),
            same_day=order.service_level is ServiceLevel.same_day,
            order_id=order.id,
        )  # fmt: skip

    def _offers(
        self, rules: SlotPolicyRules, delivery: Delivery, days: list[date],
        own_counter: str | None = None,
    ) -> tuple[str, list[SlotOffer]]:  # fmt: skip
        depots = DepotRepository(self.session, self.principal).all()
        if not depots:
            raise Unprocessable("The organization has no depot to deliver from.")
        distances = [great_circle_m(d.lat, d.lon, delivery.lat, delivery.lon) for d in depots]
        nearest = int(np.argmin(distances))
        area_id = depots[nearest].id
        vehicles = [v for v in VehicleRepository(self.session, self.principal).all() if v.active]
        refusal: SlotReason | None = None
        if distances[nearest] > rules.service_radius_km * 1000:
            refusal = SlotReason.outside_service_area
        elif not any(delivery.load.fits_in(_capacity(v)) for v in vehicles):
            refusal = SlotReason.too_heavy
        if not days:
            return area_id, []
        counts = self.counters.booked_between(
            area_id,
            local_midnight(days[0], self.tz),
            local_midnight(days[-1] + timedelta(days=1), self.tz),
        )
        capacity = rules.capacity_for(area_id)
        pooled = self.plans.pooled_nearby(
            days, delivery.lat, delivery.lon, rules.green_detour_m / 2, delivery.order_id
        )
        area_co2 = self._area_co2_g_per_km(vehicles, area_id) if pooled else 0.0
        planned = self.plans.days_with_routes(days)
        now = utcnow()
        offers = []
        for day in days:
            windows = rules.windows_on(day, self.tz)
            open_ = [
                now < rules.closes_at(s, self.tz, same_day=delivery.same_day) for s, _ in windows
            ]
            reach = None
            if refusal is None and any(open_):
                nearby = pooled.get(day, [])
                reach = self._reach(day, windows, delivery, day in planned, nearby, area_co2)
            for i, (start, end) in enumerate(windows):
                counter = counts.get(start)
                booked = counter[1] if counter else 0
                if counter is not None and counter[0] == own_counter:
                    booked -= 1
                remaining = max(0, capacity - booked)
                possible, detour, co2 = (
                    (reach.possible[i], reach.detour_m[i], reach.co2_g[i])
                    if reach
                    else (True, None, None)
                )
                reason = refusal
                if reason is None and not open_[i]:
                    reason = SlotReason.cut_off
                elif reason is None and remaining <= 0:
                    reason = SlotReason.full
                elif reason is None and not possible:
                    reason = SlotReason.no_vehicle_can_reach
                green = possible and detour is not None and detour <= rules.green_detour_m
                offers.append(
                    SlotOffer(
                        slot_id=slot_id(start, rules.window_minutes, area_id),
                        service_date=day, starts_at=start, ends_at=end, area_id=area_id,
                        feasible=reason is None, reason=reason, remaining=remaining,
                        capacity=capacity, price=rules.price_hint(start, self.tz, green=green),
                        currency=rules.currency, green=green,
                        extra_km=None if detour is None else round(detour / 1000, 2),
                        extra_co2_g=None if co2 is None else round(co2, 1),
                    )
                )  # fmt: skip
        return area_id, offers

    def _reach(
        self, day: date, windows: list[tuple[datetime, datetime]], delivery: Delivery,
        planned: bool, pooled: list[tuple[float, float]], area_co2_g_per_km: float,
    ) -> _Reach:  # fmt: skip
        """Whether and how cheaply each window can be served.

        A day with committed routes is checked by cheapest insertion into them. A day not yet
        planned can always be planned; its extra distance is estimated as a round trip from
        the nearest order already waiting for that day (None when none is near).
        """
        if planned:
            plan = self.plans.day(day, self.tz, exclude_order_id=delivery.order_id)
            return self._insert(plan, day, windows, delivery)
        if not pooled:
            return _Reach([True] * len(windows), [None] * len(windows), [None] * len(windows))
        points = np.asarray(pooled)
        nearest_m = float(
            haversine_m(
                points[:, 0], points[:, 1], np.array([delivery.lat]), np.array([delivery.lon])
            ).min()
        )
        detour = 2 * nearest_m * DEFAULT_STRAIGHT_LINE_SPEEDS[RoutingProfile.VAN].circuity
        co2 = detour / 1000 * area_co2_g_per_km
        return _Reach([True] * len(windows), [detour] * len(windows), [co2] * len(windows))

    def _insert(
        self, plan: DayPlan, day: date, windows: list[tuple[datetime, datetime]], delivery: Delivery
    ) -> _Reach:
        epoch = local_midnight(day, self.tz)
        result = cheapest_insertions(
            plan.routes, delivery.lat, delivery.lon,
            service_s=delivery.service_s, load=delivery.load,
            window_start_s=[(s - epoch).total_seconds() for s, _ in windows],
            window_end_s=[(e - epoch).total_seconds() for _, e in windows],
            now_s=(utcnow() - epoch).total_seconds(),
        )  # fmt: skip
        best = result.best_route()
        columns = range(len(windows))
        return _Reach(
            possible=[bool(best[w] >= 0) for w in columns],
            detour_m=[
                float(result.detour_m[best[w], w]) if best[w] >= 0 else None for w in columns
            ],
            co2_g=[float(result.co2_g[best[w], w]) if best[w] >= 0 else None for w in columns],
        )

    def _area_co2_g_per_km(self, vehicles: list[Vehicle], area_id: str) -> float:
        """Mean emissions per km of the vehicles based at the area's depot (else of all)."""
        grid = self.services.settings.grid_kg_co2e_per_kwh * 1000
        local = [v for v in vehicles if v.home_depot_id == area_id] or vehicles
        if not local:
            return 0.0
        return sum(co2_g_per_km(v, grid) for v in local) / len(local)

    # --- bookings -------------------------------------------------------------------------

    def book(self, order: Order, slot: str) -> SlotOffer:
        """Book ``order`` into the window ``slot``; 409 when full, cut off or infeasible."""
        rules = self.policy()
        parsed = parse_slot_id(slot)
        if parsed is None or not rules.is_window(parsed[0], parsed[1], self.tz):
            raise Unprocessable(
                f"{slot!r} is not a slot of this organization's current policy",
                errors=[field_error(["slot_id"], "unknown slot")],
            )
        start, minutes, area_id = parsed
        if order.status not in BOOKABLE | {OrderStatus.failed}:
            raise Conflict(f"A slot cannot be booked once the order is {order.status.value}.")
        current = self.bookings.for_order(order.id)
        day = start.astimezone(self.tz).date()
        own_area, offers = self._offers(
            rules, self._delivery(order), [day], own_counter=current.counter_id if current else None
        )
        if own_area != area_id:
            raise Unprocessable(
                f"The slot is for area {area_id}; this order's address is in {own_area}.",
                errors=[field_error(["slot_id"], "a slot of another area")],
            )
        offer = next(o for o in offers if o.slot_id == slot)
        if current is not None and current.slot_id == slot:
            return replace(offer, booked=True)
        if not offer.feasible:
            raise _refusal(offer)
        if order.status in ON_A_ROUTE:
            self._check_own_stop(order, offer)
        if order.status is OrderStatus.failed:
            # Booking after a failed attempt books the next attempt.
            OrderService(self.session, self.principal, self.services).next_attempt(
                order, "new slot booked after a failed attempt"
            )
        end = start + timedelta(minutes=minutes)
        counter_id = self.counters.ensure(area_id, start, end, offer.capacity)
        if not self.counters.take(counter_id, offer.capacity):
            raise SlotFull("The slot is full: its last place was just taken.")
        previous = current.slot_id if current else None
        if current is not None:
            self.counters.give_back(current.counter_id)
            current.counter_id, current.slot_id = counter_id, slot
        else:
            self.bookings.add(
                SlotBooking(
                    id=new_id("sbk"), order_id=order.id, counter_id=counter_id, slot_id=slot
                )
            )
        self._apply(order, offer, previous)
        self.session.flush()
        return replace(offer, remaining=offer.remaining - 1, booked=True)

    def release(self, order: Order) -> None:
        """Give back the place ``order`` holds, if any (its window stays as it is)."""
        self.bookings.release(order.id)

    def _check_own_stop(self, order: Order, offer: SlotOffer) -> None:
        """An order on a committed route keeps its stop: the new window must already hold it."""
        stop = self.session.get(RouteStop, order.stop_id) if order.stop_id else None
        if stop is None or not offer.starts_at <= stop.planned_arrival <= offer.ends_at:
            raise SlotUnavailable(
                "The order is on a committed route whose stop is not planned in this window; "
                "move the stop first (dispatcher or self-service)."
            )

    def _apply(self, order: Order, offer: SlotOffer, previous: str | None) -> None:
        """Make the slot the order's only window and tell history, customer and planner."""
        order.windows = [
            DeliveryWindow(
                id=new_id("win"), organization_id=order.organization_id, position=0,
                starts_at=offer.starts_at, ends_at=offer.ends_at,
            )
        ]  # fmt: skip
        order.service_date = offer.service_date
        what = "slot_changed" if previous else "slot_booked"
        data = {
            "slot_id": offer.slot_id,
            "starts_at": iso_z(offer.starts_at),
            "ends_at": iso_z(offer.ends_at),
            "previous_slot_id": previous,
        }
        self.session.add(
            OrderEvent(
                id=new_id("evt"), organization_id=order.organization_id, order_id=order.id,
                at=utcnow(), from_status=order.status, to_status=order.status,
                actor=self.principal.actor, reason=what.replace("_", " "),
                details={"event": what} | data,
            )
        )  # fmt: skip
        enqueue_event(self.session, order, NotificationEvent(what), data)
        if order.status is OrderStatus.planned:
            OrderService(self.session, self.principal, self.services).follow(
                order, OrderStatus.created, "slot changed after planning; needs re-planning"
            )

    # --- plan checks ----------------------------------------------------------------------

    def insertion_for_order(
        self, order: Order, lat: float, lon: float, window: tuple[datetime, datetime],
        route_id: str | None = None,
    ) -> Insertion | None:  # fmt: skip
        """Cheapest feasible insertion of ``order`` delivered at ``(lat, lon)`` in ``window``
        into the committed routes of the window's day (or only ``route_id``); the order's own
        stop and load are taken out first. None when no route can take it."""
        delivery = self._delivery(order, (lat, lon))
        day = window[0].astimezone(self.tz).date()
        plan = self.plans.day(day, self.tz, exclude_order_id=order.id, route_id=route_id)
        if not len(plan.routes):
            return None
        epoch = local_midnight(day, self.tz)
        result = cheapest_insertions(
            plan.routes, lat, lon, service_s=delivery.service_s, load=delivery.load,
            window_start_s=[(window[0] - epoch).total_seconds()],
            window_end_s=[(window[1] - epoch).total_seconds()],
            now_s=(utcnow() - epoch).total_seconds(),
        )  # fmt: skip
        best = int(result.best_route()[0])
        if best < 0:
            return None
        k = int(result.position[best, 0])
        stops = plan.meta[best].stop_ids
        return Insertion(
            route_id=plan.meta[best].route_id,
            after_stop_id=stops[k],
            before_stop_id=stops[k + 1],
            arrival=epoch + timedelta(seconds=float(result.arrival_s[best, 0])),
            service_start=epoch + timedelta(seconds=float(result.service_start_s[best, 0])),
            detour_m=float(result.detour_m[best, 0]),
            added_s=float(result.added_s[best, 0]),
            co2_g=float(result.co2_g[best, 0]),
        )


def insertion_for_order(
    session: Session, order: Order, lat: float, lon: float, window: tuple[datetime, datetime],
    route_id: str | None = None, *, services: Services,
) -> Insertion | None:  # fmt: skip
    """:meth:`SlotService.insertion_for_order` for code without a caller (jobs, self-service)."""
    scope = Principal(order.organization_id, Access.admin, system="slots")
    return SlotService(session, scope, services).insertion_for_order(
        order, lat, lon, window, route_id
    )


def _capacity(vehicle: Vehicle) -> Load:
    return Load(vehicle.capacity_parcels, vehicle.capacity_kg, vehicle.capacity_litres)


def _refusal(offer: SlotOffer) -> Conflict:
    messages = {
        SlotReason.full: "The slot is full.",
        SlotReason.cut_off: "Booking for this window has closed.",
        SlotReason.no_vehicle_can_reach: "No vehicle of the committed plan can reach the address "
        "in this window.",
        SlotReason.outside_service_area: "The address is outside the service area.",
        SlotReason.too_heavy: "The parcels do not fit in any vehicle.",
    }
    reason = offer.reason or SlotReason.full
    cls = SlotFull if reason is SlotReason.full else SlotUnavailable
    return cls(f"{messages[reason]} ({reason.value})")

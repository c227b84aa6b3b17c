"""``lastmile bench slots``: slot quotes against a day of 2,000 orders on committed routes.

A fresh SQLite database gets a Porto fleet (the ``city`` bench's depot and neighbourhoods):
``routes`` vans, each with a driver on an 08:00-18:00 shift, and a committed plan two days
ahead with ``stops`` stops per route (one order each, 1-3 parcels), in nearest-neighbour order
and timed like the planner does (straight-line van travel, doorstep service times, ~7 % of
orders with a 2-hour window, slack from a backward pass over windows and the shift end).
Then ``quotes`` random addresses (mostly where the demand is, some anywhere in the city) are
quoted through ``POST /v1/slots:quote`` with a merchant API key, in process (ASGI), and the
latency of each request is recorded.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from lastmile.bench.city import MAIN_DEPOT, NEIGHBOURHOODS
from lastmile.bench.server import percentiles
from lastmile.routing.geo import great_circle_m
from lastmile.routing.haversine import DEFAULT_STRAIGHT_LINE_SPEEDS
from lastmile.routing.profiles import RoutingProfile
from lastmile.routing.service_time import DeliveryMethod, service_time

TIMEZONE = ZoneInfo("Europe/Lisbon")
VAN = DEFAULT_STRAIGHT_LINE_SPEEDS[RoutingProfile.VAN]
SHIFT = (8, 18)  # local hours
WINDOW_SHARE = 0.07  # DOMAIN.md: ~7 % of packages carry a time window
PARCEL = {"count": 1, "weight_kg": 2.0, "volume_litres": 5.7}  # DOMAIN.md median volume


def _road_s(a: tuple[float, float], b: tuple[float, float]) -> float:
    return great_circle_m(a[0], a[1], b[0], b[1]) * VAN.circuity / (VAN.speed_kmh / 3.6)


def _route_points(rng: np.random.Generator, stops: int) -> list[tuple[float, float]]:
    """One route's stops around a neighbourhood, in nearest-neighbour order from the depot."""
    weights = np.asarray([n[3] for n in NEIGHBOURHOODS])
    lat, lon, spread, _ = NEIGHBOURHOODS[
        int(rng.choice(len(NEIGHBOURHOODS), p=weights / weights.sum()))
    ]
    raw = [
        (lat + float(a) * spread, lon + float(b) * spread) for a, b in rng.normal(size=(stops, 2))
    ]
    here = (MAIN_DEPOT.location.lat, MAIN_DEPOT.location.lon)
    ordered = []
    while raw:
        nearest = min(range(len(raw)), key=lambda i: great_circle_m(*here, *raw[i]))
        here = raw.pop(nearest)
        ordered.append(here)
    return ordered


def _schedule(
    points: list[tuple[float, float]], parcels: list[int], windowed: list[bool], start_s: float,
    shift_end_s: float,
) -> dict[str, Any]:  # fmt: skip
    """Planned times, windows and slack of one route (seconds from local midnight)."""
    depot = (MAIN_DEPOT.location.lat, MAIN_DEPOT.location.lon)
    t, here = start_s, depot
    arrival, begin, departure, windows, service = [], [], [], [], []
    for point, count, has_window in zip(points, parcels, windowed, strict=True):
        timing = service_time(DeliveryMethod.DOORSTEP, count)
        a = t + _road_s(here, point)
        window = (a - 3600.0, a + 3600.0) if has_window else None
        arrival.append(a)
        begin.append(a)
        t = a + timing.setup_s + timing.service_s
        departure.append(t)
        windows.append(window)
        service.append(timing.setup_s + timing.service_s)
        here = point
    end = t + _road_s(here, depot)
    latest, bound, nxt = [0.0] * len(points), shift_end_s, depot
    for k in range(len(points) - 1, -1, -1):
        latest[k] = bound - _road_s(points[k], nxt) - service[k]
        window = windows[k]
        if window is not None:
            latest[k] = min(latest[k], window[1])
        bound, nxt = latest[k], points[k]
    return {
        "arrival": arrival,
        "departure": departure,
        "windows": windows,
        "slack": [max(0, round(latest[k] - begin[k])) for k in range(len(points))],
        "end": end,
    }


def seed(url: str, *, routes: int, stops: int, day: date, seed: int) -> tuple[str, int]:
    """Fill an empty database; returns a merchant API key and the number of orders."""
    from sqlalchemy import update

    from lastmile.auth.models import Role
    from lastmile.auth.principal import Access, Principal
    from lastmile.auth.service import create_api_key, create_user
    from lastmile.db.engine import Database
    from lastmile.db.models import Base
    from lastmile.fleet.models import Depot, DepotKind, Driver, Shift, Vehicle, VehicleType
    from lastmile.integrations.geocoding import build_geocoder
    from lastmile.kit.crypto import random_token
    from lastmile.kit.ids import new_id
    from lastmile.orders.intake import IntakeContext, check_orders, insert_rows
    from lastmile.orders.models import Order
    from lastmile.orders.schemas import OrderCreate
    from lastmile.orders.status import OrderStatus
    from lastmile.organizations.models import Merchant
    from lastmile.organizations.service import create_organization
    from lastmile.planning.assemble import local_midnight
    from lastmile.planning.models import Plan, PlanStatus, Route, RouteStatus, RouteStop

    rng = np.random.default_rng(seed)
    db = Database(url)
    Base.metadata.create_all(db.engine)
    epoch = local_midnight(day, TIMEZONE)
    try:
        with db.unit_of_work() as s:
            org = create_organization(s, "Slots bench", TIMEZONE.key)
            create_user(
                s, org.id, email=f"admin-{org.id[-8:]}@bench.example.org", name="Bench admin",
                role=Role.admin, password=random_token(),
            )  # fmt: skip
            merchant = Merchant(id=new_id("mer"), organization_id=org.id, name="Bench shop")
            depot = Depot(
                id=new_id("dep"), organization_id=org.id, name="Matosinhos", kind=DepotKind.depot,
                lat=MAIN_DEPOT.location.lat, lon=MAIN_DEPOT.location.lon, opening_hours=[],
            )  # fmt: skip
            s.add_all([merchant, depot])
            s.flush()
            key = create_api_key(s, org.id, merchant.id, "bench").secret
            plan = Plan(
                id=new_id("pln"), organization_id=org.id, service_date=day,
                status=PlanStatus.committed, request={}, created_by="bench", progress=1.0,
            )  # fmt: skip
            s.add(plan)
            principal = Principal(org.id, Access.merchant, merchant_id=merchant.id)
            ctx = IntakeContext(s, principal, build_geocoder(None, "nominatim"), TIMEZONE,
                                datetime.now(UTC))  # fmt: skip
            total = 0
            for r in range(routes):
                vehicle = Vehicle(
                    id=new_id("veh"), organization_id=org.id, name=f"Van {r + 1}",
                    type=VehicleType.van, capacity_parcels=220, capacity_kg=900.0,
                    capacity_litres=3500.0, avg_speed_kmh=VAN.speed_kmh, co2_g_per_km=240.0,
                    routing_profile=RoutingProfile.VAN, home_depot_id=depot.id,
                )  # fmt: skip
                driver = Driver(id=new_id("drv"), organization_id=org.id, name=f"Driver {r + 1}")
                s.add_all([vehicle, driver])
                s.flush()
                s.add(Shift(
                    id=new_id("sft"), organization_id=org.id, driver_id=driver.id,
                    starts_at=epoch + timedelta(hours=SHIFT[0]),
                    ends_at=epoch + timedelta(hours=SHIFT[1]), breaks=[],
                ))  # fmt: skip
                points = _route_points(rng, stops)
                parcels = [int(n) for n in 1 + rng.poisson(0.5, size=stops)]
                parcels = [min(n, 3) for n in parcels]
                windowed = [bool(x) for x in rng.random(stops) < WINDOW_SHARE]
                start_s = SHIFT[0] * 3600.0 + 1200 + float(rng.uniform(0, 1800))
                plan_times = _schedule(points, parcels, windowed, start_s, SHIFT[1] * 3600.0)
                bodies = []
                for k, (lat, lon) in enumerate(points):
                    window = plan_times["windows"][k]
                    body: dict[str, Any] = {
                        "merchant_reference": f"B{r:03d}-{k:03d}",
                        "customer": {"name": f"Customer {r}-{k}"},
                        "address": {"line1": f"Rua {r}-{k}", "city": "Porto", "country": "PT",
                                    "lat": lat, "lon": lon},
                        "service_level": "next_day",
                        "service_date": day.isoformat(),
                        "parcels": [
                            {"barcode": f"SB{r:03d}{k:03d}{p}", "weight_kg": 2.0,
                             "volume_litres": 5.7}
                            for p in range(parcels[k])
                        ],
                    }  # fmt: skip
                    if window is not None:
                        body["windows"] = [{
                            "start": (epoch + timedelta(seconds=window[0])).isoformat(),
                            "end": (epoch + timedelta(seconds=window[1])).isoformat(),
                        }]  # fmt: skip
                    bodies.append((None, OrderCreate.model_validate(body)))
                intake = check_orders(ctx, bodies)
                assert not intake.errors, intake.errors[:3]
                insert_rows(s, intake)
                route = Route(
                    id=new_id("rte"), organization_id=org.id, plan_id=plan.id, service_date=day,
                    vehicle_id=vehicle.id, driver_id=driver.id, start_depot_id=depot.id,
                    end_depot_id=depot.id, status=RouteStatus.dispatched,
                    starts_at=epoch + timedelta(seconds=start_s),
                    ends_at=epoch + timedelta(seconds=plan_times["end"]),
                    distance_m=0, duration_s=round(plan_times["end"] - start_s), cost=0.0,
                    co2_g=0.0, geometry={},
                )  # fmt: skip
                s.add(route)
                s.flush()
                for k, order_id in enumerate(intake.order_ids):
                    stop = RouteStop(
                        id=new_id("stp"), organization_id=org.id, route_id=route.id,
                        position=k + 1, kind="stop", lat=points[k][0], lon=points[k][1],
                        planned_arrival=epoch + timedelta(seconds=plan_times["arrival"][k]),
                        planned_departure=epoch + timedelta(seconds=plan_times["departure"][k]),
                        slack_s=plan_times["slack"][k], order_ids=[order_id],
                    )  # fmt: skip
                    s.add(stop)
                    s.flush()
                    s.execute(
                        update(Order).where(Order.id == order_id).values(
                            status=OrderStatus.dispatched, route_id=route.id, stop_id=stop.id,
                            driver_id=driver.id, vehicle_id=vehicle.id,
                        )
                    )  # fmt: skip
                total += len(points)
            return key, total
    finally:
        db.dispose()


def _address(rng: np.random.Generator) -> dict[str, float]:
    """Mostly where the demand is, sometimes anywhere in the city's box."""
    if rng.random() < 0.3:
        return {"lat": float(rng.uniform(41.12, 41.22)), "lon": float(rng.uniform(-8.70, -8.57))}
    weights = np.asarray([n[3] for n in NEIGHBOURHOODS])
    lat, lon, spread, _ = NEIGHBOURHOODS[
        int(rng.choice(len(NEIGHBOURHOODS), p=weights / weights.sum()))
    ]
    a, b = rng.normal(size=2) * spread
    return {"lat": lat + float(a), "lon": lon + float(b)}


def run(
    *,
    routes: int = 60,
    stops: int = 34,
    quotes: int = 200,
    cold_quotes: int = 40,
    seed_value: int = 7,
) -> dict[str, Any]:
    """Seed the day, then time ``quotes`` quotes through the HTTP endpoint, and
    ``cold_quotes`` more each after an order of the day changed (the day read again)."""
    from fastapi.testclient import TestClient
    from sqlalchemy import select, update

    from lastmile.app import create_app
    from lastmile.config import Settings
    from lastmile.db.engine import Database
    from lastmile.orders.models import Order

    day = datetime.now(TIMEZONE).date() + timedelta(days=2)
    with tempfile.TemporaryDirectory(prefix="lastmile-bench-slots-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        started = time.perf_counter()
        key, orders = seed(url, routes=routes, stops=stops, day=day, seed=seed_value)
        seed_s = time.perf_counter() - started
        settings = Settings(environment="test", data_dir=Path(tmp), auto_migrate=False)
        db = Database(url)
        rng = np.random.default_rng(seed_value + 1)
        latencies, green, feasible, offers, cold = [], 0, 0, 0, []
        headers = {"Authorization": f"Bearer {key}"}
        try:
            with TestClient(create_app(settings, database=db)) as client:
                for i in range(quotes + 5):
                    body = {"location": _address(rng), "parcels": PARCEL}
                    began = time.perf_counter()
                    response = client.post("/v1/slots:quote", json=body, headers=headers)
                    elapsed = (time.perf_counter() - began) * 1000
                    if response.status_code != 200:
                        raise RuntimeError(f"quote failed: {response.status_code} {response.text}")
                    if i < 5:
                        continue  # warm-up: first requests build caches and connections
                    latencies.append(elapsed)
                    planned = [
                        o for o in response.json()["offers"] if o["service_date"] == day.isoformat()
                    ]
                    offers += len(planned)
                    green += sum(o["green"] for o in planned)
                    feasible += sum(o["feasible"] for o in planned)
                # Cold: an order of the day changed since the last quote (as each delivery does
                # on a live day), so the day's stops are read again instead of being cached.
                for _ in range(cold_quotes):
                    with db.unit_of_work() as session:
                        session.execute(
                            update(Order)
                            .where(Order.id == session.scalar(select(Order.id).limit(1)))
                            .values(updated_at=datetime.now(UTC))
                        )
                    body = {"location": _address(rng), "parcels": PARCEL}
                    began = time.perf_counter()
                    response = client.post("/v1/slots:quote", json=body, headers=headers)
                    cold.append((time.perf_counter() - began) * 1000)
                    if response.status_code != 200:
                        raise RuntimeError(f"quote failed: {response.status_code} {response.text}")
        finally:
            db.dispose()
    return {
        "bench": "slots",
        "orders": orders,
        "routes": routes,
        "stops_per_route": stops,
        "quotes": quotes,
        **percentiles(latencies),
        "mean_ms": round(sum(latencies) / len(latencies), 2),
        "cold_quotes": len(cold),
        **{f"cold_{k}": v for k, v in percentiles(cold).items()},
        "planned_day_feasible_share": round(feasible / offers, 3) if offers else None,
        "planned_day_green_share": round(green / offers, 3) if offers else None,
        "seed_s": round(seed_s, 1),
    }

"""Generate a demo city: depots, hub, fleet, drivers, lockers, merchants and orders.

Figures follow ``DOMAIN.md`` (Amazon Last Mile Routing Research Challenge data, UK emission
factors): ~1.5 parcels per order, median 5.7 L and ~2 kg per parcel, ~7 % of orders with a
delivery window, 1-2 h windows. Pure: returns plain dicts ready for the API schemas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

TIMEZONE = ZoneInfo("Europe/Lisbon")

# Porto neighbourhood centres (lat, lon, relative demand weight, spread in metres).
NEIGHBOURHOODS = [
    ("Baixa", 41.1496, -8.6110, 1.4, 500),
    ("Boavista", 41.1598, -8.6300, 1.3, 700),
    ("Bonfim", 41.1480, -8.5960, 1.0, 500),
    ("Campanhã", 41.1530, -8.5850, 0.8, 600),
    ("Paranhos", 41.1770, -8.6060, 1.2, 700),
    ("Ramalde", 41.1720, -8.6500, 1.0, 700),
    ("Foz do Douro", 41.1530, -8.6740, 0.7, 500),
    ("Lordelo do Ouro", 41.1560, -8.6560, 0.8, 500),
    ("Cedofeita", 41.1570, -8.6200, 1.1, 450),
    ("Antas", 41.1620, -8.5880, 0.9, 500),
    ("Matosinhos", 41.1840, -8.6880, 1.0, 700),
    ("Gaia Centro", 41.1330, -8.6140, 1.0, 600),
    ("Mafamude", 41.1250, -8.6010, 0.9, 600),
    ("São Mamede", 41.2000, -8.6300, 0.6, 800),
]
DEPOTS = [
    {
        "name": "Porto Norte Depot",
        "kind": "depot",
        "lat": 41.2165,
        "lon": -8.6280,
        "address": "Zona Industrial da Maia",
        "loading_time_s": 1200,
    },
    {
        "name": "Gaia Sul Depot",
        "kind": "depot",
        "lat": 41.1090,
        "lon": -8.6060,
        "address": "Vila Nova de Gaia",
        "loading_time_s": 1200,
    },
    {
        "name": "Baixa Micro-Hub",
        "kind": "hub",
        "lat": 41.1468,
        "lon": -8.6092,
        "address": "Urban consolidation centre, Rua do Loureiro",
        "loading_time_s": 600,
    },
]
FIRST = [
    "Ana",
    "João",
    "Maria",
    "Pedro",
    "Inês",
    "Tiago",
    "Beatriz",
    "Rui",
    "Sofia",
    "Miguel",
    "Carla",
    "Hugo",
    "Marta",
    "Nuno",
    "Rita",
    "André",
    "Joana",
    "Diogo",
    "Lúcia",
    "Bruno",
    "Emma",
    "Liam",
    "Lucía",
    "Mateo",
]
LAST = [
    "Silva",
    "Santos",
    "Ferreira",
    "Pereira",
    "Oliveira",
    "Costa",
    "Rodrigues",
    "Martins",
    "Sousa",
    "Fernandes",
    "Gonçalves",
    "Gomes",
    "Lopes",
    "Marques",
    "Almeida",
    "Ribeiro",
    "Pinto",
    "Carvalho",
    "Teixeira",
    "Moreira",
]
STREETS = [
    "Rua de Santa Catarina",
    "Avenida da Boavista",
    "Rua de Cedofeita",
    "Rua do Almada",
    "Rua da Constituição",
    "Avenida Fernão de Magalhães",
    "Rua de Costa Cabral",
    "Rua do Bonjardim",
    "Rua Álvares Cabral",
    "Avenida da República",
    "Rua de Camões",
    "Rua Brito Capelo",
    "Rua do Heroísmo",
    "Rua Serpa Pinto",
]
MERCHANTS = ["Livraria Douro Online", "Mercado do Bolhão Fresh", "TechPorto Store"]
# (type, count, depot index, parcels, kg, litres, fixed cost, cost/km, cost/hour)
FLEET = [
    ("van", 8, 0, 180, 1200.0, 3800.0, 40.0, 0.35, 22.0),
    ("ev_van", 6, 1, 150, 900.0, 3300.0, 45.0, 0.12, 22.0),
    ("cargo_bike", 5, 2, 40, 150.0, 1000.0, 15.0, 0.02, 18.0),
    ("drone", 1, 2, 1, 2.5, 10.0, 5.0, 0.05, 0.0),
]


@dataclass
class DemoCity:
    """Everything of a demo day, as API request bodies (ids are assigned when loaded)."""

    service_date: date
    depots: list[dict[str, Any]]
    vehicles: list[dict[str, Any]]  # "home_depot": index into depots
    drivers: list[dict[str, Any]]  # "home_depot": index; "shift": {starts_at, ends_at, breaks}
    pickup_points: list[dict[str, Any]]
    merchants: list[str]
    orders: list[dict[str, Any]] = field(default_factory=list)  # "merchant": index, "locker": idx
    # Local hour the first shifts start; every shift, break and window follows from it.
    day_start_h: float = 7.0


def _local(day: date, hour: float) -> datetime:
    """``hour`` of the local day as UTC; hours past 24 run on into the next day."""
    moment = datetime.combine(day, time(0), tzinfo=TIMEZONE) + timedelta(minutes=round(hour * 60))
    return moment.astimezone(UTC)


def live_day(now: datetime, *, lead_h: float = 1.25) -> tuple[date, float]:
    """The service date and ``day_start_h`` of a demo day whose first shifts began ``lead_h``
    ago (to the 5 minutes), so the later ones (an hour on) leave their depots about now.

    Whatever the time, the fleet is then on the road with most of its day ahead (in the morning
    that is the usual 7-8 am start). Shifts must start on the service date, so the start is
    kept between midnight and 22:30 (later shifts run on past midnight).
    """
    local = now.astimezone(TIMEZONE)
    hour = local.hour + local.minute / 60 - lead_h
    return local.date(), min(22.5, max(0.0, math.floor(hour * 12) / 12))


def _point(rng: np.random.Generator, weights: np.ndarray) -> tuple[float, float]:
    _, lat, lon, _, spread = NEIGHBOURHOODS[int(rng.choice(len(NEIGHBOURHOODS), p=weights))]
    dlat, dlon = rng.normal(0, spread, 2)
    return (
        round(lat + dlat / 111_320, 6),
        round(lon + dlon / (111_320 * np.cos(np.radians(lat))), 6),
    )


def generate_city(
    service_date: date,
    *,
    seed: int = 7,
    drivers: int = 30,
    lockers: int = 15,
    day_start_h: float = 7.0,
) -> DemoCity:
    """The fixed part of the demo: depots, fleet, drivers with shifts, lockers, merchants.

    A third of the drivers start at ``day_start_h`` (local), the others an hour later; each
    works 9 hours with a 30-minute break between 5 and 7.5 hours after the day's start.
    """
    clock = day_start_h - 7.0  # the generator's figures are for a 7 am start
    rng = np.random.default_rng(seed)
    weights = np.array([n[3] for n in NEIGHBOURHOODS]) / sum(n[3] for n in NEIGHBOURHOODS)
    vehicles = []
    for kind, count, depot, parcels, kg, litres, fixed, per_km, per_hour in FLEET:
        for i in range(count):
            vehicles.append(
                {
                    "name": f"{kind.replace('_', ' ').title()} {i + 1:02d}",
                    "type": kind,
                    "home_depot": depot,
                    "capacity_parcels": parcels,
                    "capacity_kg": kg,
                    "capacity_litres": litres,
                    "fixed_cost": fixed,
                    "cost_per_km": per_km,
                    "cost_per_hour": per_hour,
                }
            )
    driver_list = []
    for i in range(drivers):
        start = (8.0 if i % 3 else 7.0) + clock
        skills = [
            s
            for s, p in (("in_home", 0.25), ("age_check", 0.35), ("heavy", 0.15))
            if rng.random() < p
        ]
        driver_list.append(
            {
                "name": f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}",
                "phone": f"+3519{rng.integers(10_000_000, 99_999_999)}",
                "skills": skills,
                "home_depot": i % len(DEPOTS),
                "shift": {
                    "starts_at": _local(service_date, start),
                    "ends_at": _local(service_date, start + 9),
                    "breaks": [
                        {
                            "earliest_start": _local(service_date, 12 + clock),
                            "latest_end": _local(service_date, 14.5 + clock),
                            "duration_minutes": 30,
                        }
                    ],
                },
            }
        )
    points = []
    for i in range(lockers):
        lat, lon = _point(rng, weights)
        kind = "pickup_point" if i % 5 == 4 else "locker"
        hours = (
            [{"weekday": d, "opens": "09:00", "closes": "20:00"} for d in range(6)]
            if kind == "pickup_point"
            else []
        )
        points.append(
            {
                "name": f"{'Locker' if kind == 'locker' else 'Pick-up'} {i + 1:02d}",
                "kind": kind,
                "lat": lat,
                "lon": lon,
                "opening_hours": hours,
                "compartments": int(rng.integers(24, 72)) if kind == "locker" else 200,
            }
        )
    return DemoCity(
        service_date,
        [dict(d) for d in DEPOTS],
        vehicles,
        driver_list,
        points,
        list(MERCHANTS),
        day_start_h=day_start_h,
    )


def generate_orders(
    city: DemoCity, count: int, *, seed: int = 11, tag: str = "D", now: datetime | None = None
) -> list[dict[str, Any]]:
    """``count`` orders for the city's service date, as ``POST /v1/orders`` bodies.

    ``pickup_point_id`` holds the index of the locker (the loader maps it to its id). A window
    that would be over by ``now`` is left out (the order keeps its next-day service level), so
    a day generated while it is under way can still be imported.
    """
    clock = city.day_start_h - 7.0
    rng = np.random.default_rng(seed)
    weights = np.array([n[3] for n in NEIGHBOURHOODS]) / sum(n[3] for n in NEIGHBOURHOODS)
    day = city.service_date
    methods = ["doorstep", "safe_place", "locker", "pickup_point", "in_home"]
    method_p = [0.70, 0.12, 0.10, 0.03, 0.05]
    lockers = [i for i, p in enumerate(city.pickup_points) if p["kind"] == "locker"]
    counters = [i for i, p in enumerate(city.pickup_points) if p["kind"] == "pickup_point"]
    orders = []
    for n in range(count):
        lat, lon = _point(rng, weights)
        method = str(rng.choice(methods, p=method_p))
        first, last = FIRST[int(rng.integers(len(FIRST)))], LAST[int(rng.integers(len(LAST)))]
        language = str(rng.choice(["pt", "en", "es"], p=[0.8, 0.15, 0.05]))
        parcels = 1 + int(rng.geometric(0.67) - 1)
        order: dict[str, Any] = {
            "merchant_reference": f"{tag}{n + 1:06d}",
            "merchant": int(rng.integers(len(city.merchants))),
            "customer": {
                "name": f"{first} {last}",
                "language": language,
                "phone": f"+3519{rng.integers(10_000_000, 99_999_999)}",
                "email": f"{first.lower()}.{n}@example.org".encode("ascii", "ignore").decode(),
                "channels": ["sms", "email"] if rng.random() < 0.6 else ["email"],
            },
            "address": {
                "line1": f"{STREETS[int(rng.integers(len(STREETS)))]} {rng.integers(1, 400)}",
                "postcode": f"4{rng.integers(0, 499):03d}-{rng.integers(0, 999):03d}",
                "city": "Vila Nova de Gaia" if lat < 41.141 else "Porto",
                "country": "PT",
                "lat": lat,
                "lon": lon,
            },
            "service_level": "next_day",
            "delivery_method": method,
            "service_date": day.isoformat(),
            "priority": 50,
            "parcels": [
                {
                    "barcode": f"{tag}{n + 1:06d}{k}",
                    "weight_kg": round(float(min(30.0, rng.lognormal(np.log(2.0), 0.8))), 2),
                    "volume_litres": round(float(min(120.0, rng.lognormal(np.log(5.7), 0.7))), 2),
                }
                for k in range(parcels)
            ],
        }
        if method in ("locker", "pickup_point"):
            pool = lockers if method == "locker" else counters
            order["pickup_point_id"] = pool[int(rng.integers(len(pool)))]
        if method == "safe_place":
            order["safe_place"] = str(rng.choice(["front_door", "porch", "reception", "neighbour"]))
        if rng.random() < 0.07:  # ~7 % of parcels carry a time window
            start = float(rng.choice([9, 10, 11, 13, 14, 15, 16])) + clock
            end = _local(day, start + float(rng.choice([1, 2])))
            if now is None or end > now:
                order["service_level"] = "scheduled"
                order["windows"] = [
                    {"start": _local(day, start).isoformat(), "end": end.isoformat()}
                ]
        if rng.random() < 0.1:
            order["signature_required"] = True
        if rng.random() < 0.03:
            order["age_check"] = True
        if rng.random() < 0.2:
            order["instructions"] = str(
                rng.choice(
                    [
                        "Ring the bell twice",
                        "Leave with the concierge",
                        "Call on arrival",
                        "Side entrance, blue door",
                        "Dog in the garden: please use the gate bell",
                    ]
                )
            )
        orders.append(order)
    return orders

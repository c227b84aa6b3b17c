"""``lastmile bench city``: a generated Porto delivery day, road matrices and a full plan.

The day follows public figures (see DOMAIN.md): about 1.5 parcels per stop, a 52 s median
doorstep service time, 7 % of orders with a 2-hour window, vans of 3.5 m³, a mixed fleet of
diesel vans, electric vans and cargo bikes reloading at a city-centre hub. Travel comes from
the shipped OpenStreetMap extract with a weekday congestion profile.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from lastmile.routing import (
    URBAN_WEEKDAY,
    Break,
    CongestedTravelModel,
    Coordinate,
    DeliveryMethod,
    Depot,
    Job,
    Load,
    Plan,
    Problem,
    RoadNetworkModel,
    RoutingProfile,
    TimeWindow,
    VehicleType,
    build_matrices,
    plan_routes_decomposed,
    plan_with_matrices,
    service_time,
    validate_plan,
)

DEMO_OSM = Path(__file__).resolve().parent.parent / "data" / "osm" / "porto_portugal.osm.pbf"
HOUR = 3600
MAIN_DEPOT = Depot("depot-matosinhos", Coordinate(41.1830, -8.6610))
CITY_HUB = Depot("hub-baixa", Coordinate(41.1480, -8.6110))
NEIGHBOURHOODS = (  # (lat, lon, spread in degrees, weight): Porto, Matosinhos, Gaia
    (41.1500, -8.6100, 0.008, 3.0), (41.1600, -8.6300, 0.008, 2.0),
    (41.1620, -8.5950, 0.008, 2.0), (41.1750, -8.6050, 0.010, 1.5),
    (41.1550, -8.6650, 0.009, 1.5), (41.1820, -8.6850, 0.008, 1.0),
    (41.1300, -8.6100, 0.010, 1.5), (41.1200, -8.6300, 0.010, 1.0),
)  # fmt: skip


def generate_day(orders: int, vehicles: int, seed: int) -> Problem:
    """A reproducible delivery day in Porto with ``orders`` orders and ``vehicles`` vehicles."""
    rng = np.random.default_rng(seed)
    weights = np.asarray([n[3] for n in NEIGHBOURHOODS])
    addresses = max(1, round(orders / 1.5))
    hood = rng.choice(len(NEIGHBOURHOODS), size=addresses, p=weights / weights.sum())
    centre = np.asarray([n[:2] for n in NEIGHBOURHOODS])[hood]
    spread = np.asarray([n[2] for n in NEIGHBOURHOODS])[hood]
    places = centre + rng.normal(size=(addresses, 2)) * spread[:, None]
    lockers = places[rng.choice(addresses, size=max(1, addresses // 150), replace=False)]
    jobs = []
    for i in range(orders):
        roll = rng.random()
        if roll < 0.05:
            method, locker = DeliveryMethod.LOCKER, int(rng.integers(len(lockers)))
            lat, lon, key = lockers[locker][0], lockers[locker][1], f"locker-{locker}"
        else:
            method = DeliveryMethod.IN_HOME if roll < 0.08 else DeliveryMethod.DOORSTEP
            # The first orders get their own address, later ones often share one (1.5 per stop).
            address = i if i < addresses else int(rng.integers(addresses))
            lat, lon, key = places[address][0], places[address][1], f"address-{address}"
        parcels = int(rng.choice([1, 2, 3], p=[0.8, 0.15, 0.05]))
        age_check = rng.random() < 0.02
        timing = service_time(method, parcels, age_check=age_check)
        skills = {"in_home"} if method is DeliveryMethod.IN_HOME else set()
        windows: tuple[TimeWindow, ...] = ()
        if rng.random() < 0.07:
            start = int(rng.integers(9, 16)) * HOUR
            windows = (TimeWindow(start, start + 2 * HOUR),)
        jobs.append(
            Job(
                id=f"ord-{i:05d}",
                location=Coordinate(float(lat), float(lon)),
                load=Load(
                    parcels=parcels,
                    kg=round(float(rng.lognormal(np.log(2.0), 0.8, parcels).sum()), 2),
                    litres=round(float(rng.lognormal(np.log(5.7), 0.7, parcels).sum()), 1),
                ),
                service_s=timing.service_s,
                setup_s=timing.setup_s,
                windows=windows,
                # Same-day orders (5 %) are ready at 11:00 and never carry a morning window.
                release_s=11 * HOUR if rng.random() < 0.05 and not windows else 0,
                skills=frozenset(skills | ({"age_check"} if age_check else set())),
                stop_key=key,
            )
        )
    return Problem(
        depots=(MAIN_DEPOT, CITY_HUB),
        vehicle_types=_fleet(vehicles),
        jobs=tuple(jobs),
        time_of_day_at_epoch_s=0,
    )


def _fleet(vehicles: int) -> tuple[VehicleType, ...]:
    bikes = vehicles // 6
    electric = (vehicles - bikes) // 4
    vans = vehicles - bikes - electric
    skilled = vans // 3
    lunch = (Break(12 * HOUR, 14 * HOUR, 30 * 60),)
    van = VehicleType(
        id="van-diesel",
        depot_id=MAIN_DEPOT.id,
        capacity=Load(parcels=220, kg=900, litres=3500),
        shift_start_s=8 * HOUR,
        shift_end_s=18 * HOUR,
        count=vans - skilled,
        fixed_cost=60.0,
        cost_per_km=0.30,
        cost_per_hour=25.0,
        breaks=lunch,
        co2_g_per_km=240.0,
    )
    return (
        van,
        replace(
            van, id="van-diesel-skilled", count=skilled, skills=frozenset({"in_home", "age_check"})
        ),
        replace(
            van,
            id="van-electric",
            count=electric,
            fixed_cost=55.0,
            cost_per_km=0.12,
            co2_g_per_km=0.0,
            energy_kwh_per_km=0.22,
            max_distance_m=150_000,
        ),
        VehicleType(
            id="cargo-bike",
            depot_id=CITY_HUB.id,
            capacity=Load(parcels=30, kg=150, litres=450),
            shift_start_s=8 * HOUR,
            shift_end_s=16 * HOUR,
            count=bikes,
            reload_depot_ids=(CITY_HUB.id,),
            profile=RoutingProfile.CARGO_BIKE,
            fixed_cost=25.0,
            cost_per_km=0.02,
            cost_per_hour=18.0,
            breaks=lunch,
            energy_kwh_per_km=0.015,
        ),
    )


def _peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of the largest finished child, in MB."""
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 1024**2  # kB on Linux, B on macOS
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale
    return round(own, 1), round(children, 1)


def _figures(plan: Plan) -> dict[str, Any]:
    return {
        "assigned": len(plan.assigned_job_ids),
        "unassigned": len(plan.unassigned),
        "unassigned_by_reason": dict(Counter(str(u.reason) for u in plan.unassigned)),
        "routes": len(plan.routes),
        "km": round(plan.distance_m / 1000, 1),
        "cost": round(plan.cost, 2),
        "co2_kg": round(plan.co2_g / 1000, 1),
    }


def run(
    orders: int = 2000,
    vehicles: int = 60,
    time_limit_s: float = 40.0,
    osm_path: Path = DEMO_OSM,
    seed: int = 0,
    workers: int = 2,
    cache_dir: Path | None = None,
    decompose: bool | None = None,
    compare_whole: bool = False,
) -> dict[str, Any]:
    """
    Generate a Porto day, compute road matrices and plan it end to end.

    Parameters
    ----------
    orders, vehicles
        Size of the day.
    time_limit_s
        Search budget (matrices and assembly come on top, and are reported separately).
    osm_path
        OpenStreetMap extract; defaults to the shipped Porto demo city.
    seed
        Seed of both the generated day and the search.
    workers
        Cores to use.
    cache_dir
        Where the prepared road graph is cached; a fresh temporary folder (cold start) by
        default.
    decompose
        Plan zone by zone (``plan_routes_decomposed``); default: when orders exceed 3,000.
    compare_whole
        With ``decompose``, also plan the day whole with the same total time, for comparison.

    Returns
    -------
    dict
        ``seconds``, ``prepare_seconds`` (road graph), ``matrix_seconds``, ``solve_seconds``,
        ``peak_rss_mb`` (this process) and ``peak_child_rss_mb`` (largest worker), plan figures
        (``assigned``, ``unassigned``, ``unassigned_by_reason``, ``routes``, ``km``, ``cost``,
        ``co2_kg``), ``violations`` (from ``validate_plan``; 0 expected), and with
        ``compare_whole`` a ``whole`` dict of the same figures.
    """
    started = time.perf_counter()
    decompose = orders > 3000 if decompose is None else decompose
    problem = generate_day(orders, vehicles, seed)
    with tempfile.TemporaryDirectory() as scratch:
        road = RoadNetworkModel.from_osm(osm_path, cache_dir=cache_dir or Path(scratch))
    travel = CongestedTravelModel(road, URBAN_WEEKDAY)
    prepared = time.perf_counter()
    result: dict[str, Any] = {"orders": orders, "vehicles": vehicles, "decomposed": decompose}
    if decompose:
        plan = plan_routes_decomposed(
            problem, travel, time_limit_s=time_limit_s, seed=seed, workers=workers
        )
        solved = time.perf_counter()
        result["matrix_seconds"] = None  # computed per zone, inside the solve
    else:
        matrices = build_matrices(problem, travel)
        matrix_done = time.perf_counter()
        plan = plan_with_matrices(
            problem,
            matrices,
            time_limit_s=time_limit_s,
            seed=seed,
            workers=workers,
            geometry=travel,
        )
        solved = time.perf_counter()
        result["matrix_seconds"] = round(matrix_done - prepared, 2)
        result["violations"] = len(validate_plan(problem, matrices, plan))
    result["seconds"] = round(solved - started, 2)
    result["prepare_seconds"] = round(prepared - started, 2)
    result["solve_seconds"] = round(solved - prepared - (result["matrix_seconds"] or 0), 2)
    result.update(_figures(plan))
    if decompose and compare_whole:
        # Same total time: the whole day's search gets what its matrices leave of it.
        whole_started = time.perf_counter()
        matrices = build_matrices(problem, travel)
        matrix_seconds = time.perf_counter() - whole_started
        whole = plan_with_matrices(
            problem,
            matrices,
            time_limit_s=max(1.0, result["seconds"] - result["prepare_seconds"] - matrix_seconds),
            seed=seed,
            workers=workers,
            geometry=travel,
        )
        result["whole"] = {
            **_figures(whole),
            "matrix_seconds": round(matrix_seconds, 2),
            "seconds": round(time.perf_counter() - whole_started + result["prepare_seconds"], 2),
        }
    result["peak_rss_mb"], result["peak_child_rss_mb"] = _peak_rss_mb()
    return result

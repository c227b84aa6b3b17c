"""The search step of a planning job, run in a worker process."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lastmile.routing.haversine import HaversineModel
from lastmile.routing.plan import Plan
from lastmile.routing.planner import plan_routes
from lastmile.routing.problem import Problem
from lastmile.routing.road.model import RoadNetworkModel
from lastmile.routing.travel import TravelModel, TravelModelByProfile

DEMO_CITY_PBF = Path(__file__).parent.parent / "data" / "osm" / "porto_portugal.osm.pbf"


@dataclass(frozen=True)
class SolveSettings:
    """How a worker builds its travel model and how hard it searches."""

    osm_pbf: Path | None
    cache_dir: Path
    workers: int = 2


@cache
def travel_model(settings: SolveSettings) -> TravelModel:
    """Road travel times when an OSM extract is configured, straight lines otherwise.

    Cached per process: a worker parses (or loads the prepared graph) once for all its jobs.
    Drones, and any profile the road network lacks, fly straight.
    """
    straight = HaversineModel()
    if settings.osm_pbf is None:
        return straight
    road = RoadNetworkModel.from_osm(settings.osm_pbf, cache_dir=settings.cache_dir)
    return TravelModelByProfile(dict.fromkeys(road.profiles, road), fallback=straight)


def solve_day(problem: Problem, settings: SolveSettings, time_limit_s: int, seed: int) -> Plan:
    return plan_routes(
        problem,
        travel_model(settings),
        time_limit_s=time_limit_s,
        seed=seed,
        workers=settings.workers,
    )

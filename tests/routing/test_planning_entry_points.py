"""plan_routes end to end: determinism, parallel workers, progress, warm starts and geometry."""

from __future__ import annotations

from pathlib import Path

from lastmile.routing import (
    Coordinate,
    Depot,
    HaversineModel,
    Job,
    Load,
    Plan,
    Progress,
    RoadNetworkModel,
    build_matrices,
    plan_feature_collection,
    plan_routes,
    plan_with_matrices,
    validate_plan,
)
from tests.routing.builders import job, problem, van

HEIDELBERG = Path(__file__).parent.parent / "data" / "routing" / "heidelberg_altstadt.osm.pbf"


def _busy_day() -> list[Job]:
    return [job(f"j{i}", (i % 7) * 400 - 1200, (i // 7) * 450 - 900) for i in range(28)]


def test_same_seed_and_iterations_give_the_same_plan() -> None:
    """With an iteration limit, equal seeds reproduce the plan exactly."""
    instance = problem(*_busy_day(), vehicles=(van(count=3, capacity=Load(12, 100, 500)),))
    first = plan_routes(instance, HaversineModel(), time_limit_s=30, seed=7, max_iterations=300)
    second = plan_routes(instance, HaversineModel(), time_limit_s=30, seed=7, max_iterations=300)
    assert first.routes == second.routes
    assert first.unassigned == second.unassigned


def test_two_workers_are_deterministic_and_no_worse() -> None:
    """Two seeded searches in parallel reproduce their result and beat or match one alone."""
    instance = problem(*_busy_day(), vehicles=(van(count=3, capacity=Load(12, 100, 500)),))

    def run(workers: int) -> Plan:
        return plan_routes(
            instance, HaversineModel(), time_limit_s=60, seed=3, max_iterations=200, workers=workers
        )

    single, pair, again = run(1), run(2), run(2)
    assert pair.routes == again.routes
    assert pair.stats.objective <= single.stats.objective


def test_progress_is_reported_while_searching() -> None:
    """A search longer than the reporting interval calls on_progress with the best objective."""
    reports: list[Progress] = []
    instance = problem(*_busy_day(), vehicles=(van(count=3, capacity=Load(12, 100, 500)),))
    plan_routes(instance, HaversineModel(), time_limit_s=1.5, on_progress=reports.append)
    assert reports
    assert all(r.time_limit_s == 1.5 for r in reports)


def test_warm_start_from_a_previous_plan_stays_valid() -> None:
    """Re-planning from an earlier plan's routes after adding an order gives a valid plan."""
    instance = problem(*_busy_day()[:10], vehicles=(van(count=2),))
    matrices = build_matrices(instance, HaversineModel())
    earlier = plan_with_matrices(instance, matrices, time_limit_s=30, max_iterations=200)
    grown = problem(*instance.jobs, job("new", 300, 300), vehicles=instance.vehicle_types)
    grown_matrices = build_matrices(grown, HaversineModel())
    plan = plan_with_matrices(
        grown, grown_matrices, time_limit_s=30, max_iterations=50, initial=earlier.routes
    )
    assert validate_plan(grown, grown_matrices, plan) == []
    assert "new" in plan.assigned_job_ids


def test_plan_on_a_real_road_network_draws_roads() -> None:
    """On the Heidelberg extract plans validate and their geometry follows the streets."""
    road = RoadNetworkModel.from_osm(HEIDELBERG)
    spots = [(49.4120, 8.6930), (49.4105, 8.7050), (49.4090, 8.6980), (49.4140, 8.7100)]
    instance = problem(
        *(Job(f"h{i}", Coordinate(lat, lon), service_s=60) for i, (lat, lon) in enumerate(spots)),
        vehicles=(van(),),
        depots=(Depot("D", Coordinate(49.4080, 8.6900)),),
    )
    plan = plan_routes(instance, road, time_limit_s=30, max_iterations=200)
    assert validate_plan(instance, build_matrices(instance, road), plan) == []
    (route,) = plan.routes
    assert route.geometry["type"] == "LineString"
    assert len(route.geometry["coordinates"]) > len(route.visits) + 2
    collection = plan_feature_collection(plan)
    assert len(collection["features"]) == 1 + len(route.visits)
    lon, lat = collection["features"][1]["geometry"]["coordinates"]
    assert 49.4 < lat < 49.42
    assert 8.68 < lon < 8.72

"""Geographic decomposition: partition helpers and zone-by-zone planning."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lastmile.routing import (
    DecompositionOptions,
    Depot,
    HaversineModel,
    Load,
    build_matrices,
    plan_routes_decomposed,
    validate_plan,
)
from lastmile.routing.partition import allocate_counts, assign_depots, sweep_sectors
from tests.routing.builders import ORIGIN, PROPERTY_SETTINGS, at, job, problem, van


@PROPERTY_SETTINGS
@given(st.integers(0, 50), st.lists(st.floats(0, 100), min_size=1, max_size=8))
def test_allocation_sums_to_the_total(total: int, weights: list[float]) -> None:
    """Largest-remainder allocation hands out exactly the total, never a negative count."""
    counts = allocate_counts(total, weights)
    assert sum(counts) == total
    assert min(counts) >= 0


def test_allocation_is_proportional() -> None:
    """Counts follow the weights as closely as whole numbers allow."""
    assert allocate_counts(10, [1.0, 1.0, 3.0]) == [2, 2, 6]


def test_sectors_partition_orders_evenly() -> None:
    """Sweep sectors cover every order once, in groups of near-equal size, at any rotation."""
    orders = [job(f"j{i}", 1000 * ((i * 7) % 11 - 5), 1000 * ((i * 3) % 13 - 6)) for i in range(40)]
    for rotation in (0.0, 0.5):
        sectors = sweep_sectors(ORIGIN, orders, 3, rotation)
        assert sorted(j.id for s in sectors for j in s) == sorted(j.id for j in orders)
        assert {len(s) for s in sectors} <= {13, 14}


def test_depot_assignment_respects_fleet_room() -> None:
    """Orders go to their nearest depot until its fleet is full, then to the next one."""
    instance = problem(
        *(job(f"j{i}", 100 * i, 0) for i in range(6)),
        depots=(Depot("D", ORIGIN), Depot("E", at(0, 5000))),
        vehicles=(van(capacity=Load(4, 100, 100)), van("far", depot_id="E")),
    )
    home = assign_depots(instance, trips_per_reloading_vehicle=3.0)
    assert sum(1 for d in home.values() if d == "D") == 4
    assert set(home) == {f"j{i}" for i in range(6)}


def test_decomposed_plan_is_valid_for_the_whole_problem() -> None:
    """Zone plans merged into one are valid against the whole day, with unique vehicles."""
    orders = [job(f"j{i}", 900 * ((i * 7) % 9 - 4), 900 * ((i * 5) % 11 - 5)) for i in range(36)]
    instance = problem(
        *orders,
        depots=(Depot("D", ORIGIN), Depot("E", at(2500, 2500))),
        vehicles=(van(count=4, capacity=Load(8, 100, 500)), van("e", depot_id="E", count=2)),
    )
    plan = plan_routes_decomposed(
        instance,
        HaversineModel(),
        time_limit_s=3.0,
        decomposition=DecompositionOptions(max_zone_jobs=10),
    )
    assert validate_plan(instance, build_matrices(instance, HaversineModel()), plan) == []
    assert len(plan.assigned_job_ids) == len(orders)

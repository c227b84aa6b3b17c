"""Each planning constraint, on a small instance where it binds."""

from __future__ import annotations

import pytest

from lastmile.routing import (
    Break,
    Depot,
    HaversineModel,
    Load,
    PlanningOptions,
    RoutingProfile,
    StraightLineSpeed,
    TimeWindow,
    TravelModelByProfile,
    VisitKind,
)
from tests.routing.builders import (
    HOUR,
    VAN_CAPACITY,
    at,
    depot,
    job,
    problem,
    reason_of,
    route_of,
    solve_valid,
    van,
)


def test_time_window_is_honoured_by_waiting() -> None:
    """An order with a late window is served inside it even though the van could come early."""
    window = TimeWindow(14 * HOUR, 15 * HOUR)
    plan = solve_valid(problem(job("a", 500, 0, windows=(window,)), job("b", 800, 300)))
    visit = next(v for r in plan.routes for v in r.visits if "a" in v.job_ids)
    assert window.start_s <= visit.service_start_s <= window.end_s
    assert visit.window == window


def test_alternative_windows_use_a_reachable_one() -> None:
    """Of two alternative windows, the one the shift can reach is chosen."""
    early, late = TimeWindow(2 * HOUR, 3 * HOUR), TimeWindow(16 * HOUR, 17 * HOUR)
    plan = solve_valid(problem(job("a", 500, 0, windows=(early, late))))
    assert plan.routes[0].visits[0].window == late


def test_order_outside_every_window_is_unassigned_with_window_reason() -> None:
    """An order whose only window lies outside every shift is reported as a window problem."""
    plan = solve_valid(problem(job("a", 500, 0, windows=(TimeWindow(20 * HOUR, 21 * HOUR),))))
    assert reason_of(plan, "a") == "window"


@pytest.mark.parametrize(
    ("capacity", "load"),
    [
        (Load(10, 500.0, 3000.0), Load(6, 1.0, 1.0)),
        (Load(100, 10.0, 3000.0), Load(1, 6.0, 1.0)),
        (Load(100, 500.0, 10.0), Load(1, 1.0, 6.0)),
    ],
    ids=["parcels", "kg", "litres"],
)
def test_capacity_binds_in_each_dimension(capacity: Load, load: Load) -> None:
    """Two orders that together exceed one capacity dimension go on different vehicles."""
    instance = problem(
        job("a", 500, 0, load=load),
        job("b", 600, 0, load=load),
        vehicles=(van(capacity=capacity, count=2),),
    )
    plan = solve_valid(instance)
    assert not plan.unassigned
    assert route_of(plan, "a") != route_of(plan, "b")


def test_order_larger_than_every_vehicle_is_unassigned_for_capacity() -> None:
    """An order no vehicle can hold is reported as a capacity problem, the rest is planned."""
    plan = solve_valid(problem(job("big", 500, 0, load=Load(101)), job("ok", 600, 0)))
    assert reason_of(plan, "big") == "capacity"
    assert plan.assigned_job_ids == {"ok"}


def test_fleet_shortage_drops_lower_priority_first() -> None:
    """When only one of two orders fits, the higher-priority order is the one planned."""
    instance = problem(
        job("low", 500, 0, load=Load(60)),
        job("high", 600, 0, load=Load(60), priority=1),
    )
    plan = solve_valid(instance)
    assert plan.assigned_job_ids == {"high"}
    assert reason_of(plan, "low") == "fleet"


def test_shift_end_is_respected() -> None:
    """A route never returns after its shift end, even when that leaves orders unplanned."""
    jobs = tuple(job(f"j{i}", 300 * i, 0, service_s=1800) for i in range(1, 8))
    short = van(shift_start_s=8 * HOUR, shift_end_s=10 * HOUR)
    plan = solve_valid(problem(*jobs, vehicles=(short,)))
    assert plan.routes[0].end_s <= 10 * HOUR
    assert plan.unassigned


def test_order_beyond_shift_reach_is_unassigned_for_shift() -> None:
    """An order too far to reach and return from within the shift is reported as a shift problem."""
    plan = solve_valid(problem(job("far", 60_000, 0), vehicles=(van(shift_end_s=9 * HOUR),)))
    assert reason_of(plan, "far") == "shift"


def test_break_is_taken_within_its_window() -> None:
    """A route running through the break window contains the break, inside that window."""
    lunch = Break(12 * HOUR, 13 * HOUR, 1800)
    jobs = tuple(job(f"j{i}", 400 * i, 0, service_s=1500) for i in range(1, 12))
    plan = solve_valid(problem(*jobs, vehicles=(van(breaks=(lunch,)),)))
    (taken,) = plan.routes[0].breaks
    assert lunch.earliest_start_s <= taken.start_s <= lunch.latest_start_s
    assert taken.end_s - taken.start_s == lunch.duration_s


def test_window_after_break_still_met() -> None:
    """An afternoon window is kept although the driver must break before it."""
    lunch = Break(12 * HOUR, 12 * HOUR + 900, 3600)
    morning = tuple(job(f"m{i}", 300 * i, 0, service_s=2400) for i in range(1, 7))
    tight = job("pm", 500, 500, windows=(TimeWindow(13 * HOUR, 13 * HOUR + 600),))
    plan = solve_valid(problem(*morning, tight, vehicles=(van(breaks=(lunch,)),)))
    assert "pm" in plan.assigned_job_ids


def test_range_limit_excludes_far_orders() -> None:
    """An EV does not serve an order whose round trip exceeds its range."""
    ev = van(max_distance_m=10_000)
    plan = solve_valid(problem(job("near", 2000, 0), job("far", 8000, 0), vehicles=(ev,)))
    assert plan.assigned_job_ids == {"near"}
    assert reason_of(plan, "far") == "range"


def test_range_limit_splits_routes() -> None:
    """Orders each within range but not together are split over two range-limited vehicles."""
    ev = van(max_distance_m=17_000, count=2)
    plan = solve_valid(problem(job("n", 6000, 0), job("s", -6000, 0), vehicles=(ev,)))
    assert not plan.unassigned
    assert all(r.distance_m <= 17_000 for r in plan.routes)


def test_payload_limit_keeps_heavy_orders_off_drones() -> None:
    """A drone only takes orders within its payload; a heavy one goes by van."""
    drone = van(
        "drone", profile=RoutingProfile.DRONE, max_payload_kg=2.5, capacity=Load(1, 2.5, 10)
    )
    instance = problem(
        job("light", 1500, 0, load=Load(1, 1.0, 2.0)),
        job("heavy", 1600, 0, load=Load(1, 8.0, 2.0)),
        vehicles=(drone, van(fixed_cost=100.0)),
    )
    plan = solve_valid(instance)
    assert plan.routes[route_of(plan, "heavy")].vehicle_type_id == "van"


def test_payload_limit_reason() -> None:
    """With only a drone, an order over its payload is reported as a payload problem."""
    drone = van("drone", profile=RoutingProfile.DRONE, max_payload_kg=2.5)
    plan = solve_valid(problem(job("heavy", 1500, 0, load=Load(1, 8.0, 2.0)), vehicles=(drone,)))
    assert reason_of(plan, "heavy") == "payload"


def test_skills_route_orders_to_qualified_drivers() -> None:
    """An in-home order goes to the driver with the in-home skill, others to anyone."""
    instance = problem(
        job("home", 500, 0, skills=frozenset({"in_home"})),
        job("door", 500, 50),
        vehicles=(van("plain", fixed_cost=0.0), van("skilled", skills=frozenset({"in_home"}))),
    )
    plan = solve_valid(instance)
    assert plan.routes[route_of(plan, "home")].vehicle_type_id == "skilled"


def test_missing_skill_reason() -> None:
    """An order needing a skill nobody has is reported as a skill problem."""
    plan = solve_valid(problem(job("age", 500, 0, skills=frozenset({"age_check"}))))
    assert reason_of(plan, "age") == "skill"


def test_release_time_delays_departure() -> None:
    """A vehicle carrying a same-day order leaves the depot only once it is released."""
    plan = solve_valid(problem(job("late", 500, 0, release_s=11 * HOUR), job("early", 600, 0)))
    route = plan.routes[route_of(plan, "late")]
    assert route.start_s >= 11 * HOUR


def test_routes_start_and_end_at_their_depots() -> None:
    """Vehicles of two depots start from their own and may end at another depot."""
    instance = problem(
        job("a", 500, 0),
        job("b", 20_500, 0),
        vehicles=(van("north", depot_id="N", end_depot_id="D"), van("south")),
        depots=(depot("D"), Depot("N", at(20_000, 0))),
    )
    plan = solve_valid(instance)
    north = plan.routes[route_of(plan, "b")]
    assert (north.vehicle_type_id, north.start_depot_id, north.end_depot_id) == ("north", "N", "D")


def test_reloading_at_a_hub_allows_more_trips() -> None:
    """A small cargo bike reloading at its hub serves more orders than fit at once."""
    bike = van(
        "bike",
        profile=RoutingProfile.CARGO_BIKE,
        capacity=Load(2, 100.0, 500.0),
        reload_depot_ids=("D",),
    )
    plan = solve_valid(
        problem(*(job(f"j{i}", 300 * i, 200) for i in range(1, 6)), vehicles=(bike,))
    )
    assert not plan.unassigned
    assert any(v.kind is VisitKind.RELOAD for v in plan.routes[0].visits)


def test_each_profile_uses_its_own_travel_times() -> None:
    """A bike's route takes longer than a van's over the same stop, per their profiles."""
    instance = problem(
        job("a", 3000, 0),
        vehicles=(van(), van("bike", profile=RoutingProfile.CARGO_BIKE)),
    )
    plan = solve_valid(instance)
    van_leg = plan.routes[0].visits[0].travel_from_previous_s
    assert plan.routes[0].vehicle_type_id == "van"
    bike_plan = solve_valid(problem(job("a", 3000, 0), vehicles=(van("b", profile="cargo_bike"),)))
    assert bike_plan.routes[0].visits[0].travel_from_previous_s > van_leg


def test_drones_fly_straight_through_a_mixed_model() -> None:
    """Drones take the straight-line model's distances while vans use theirs."""
    travel = TravelModelByProfile(
        {RoutingProfile.DRONE: HaversineModel({RoutingProfile.DRONE: StraightLineSpeed(60.0)})},
        fallback=HaversineModel(),
    )
    drone = van("drone", profile=RoutingProfile.DRONE, capacity=Load(1, 2.5, 10))
    plan = solve_valid(problem(job("a", 2000, 0), vehicles=(drone,)), travel)
    assert plan.routes[0].distance_m == pytest.approx(4000, abs=10)


def test_orders_at_one_locker_share_a_stop() -> None:
    """Orders with the same stop key and windows become one visit with one setup time."""
    locker = dict(stop_key="locker-1", setup_s=60, service_s=10)
    instance = problem(job("a", 500, 0, **locker), job("b", 500, 0, **locker), job("c", 900, 0))
    plan = solve_valid(instance)
    visit = next(v for v in plan.routes[0].visits if "a" in v.job_ids)
    assert set(visit.job_ids) == {"a", "b"}
    assert visit.departure_s - visit.service_start_s == 60 + 10 + 10


def test_emissions_count_fuel_and_grid_electricity() -> None:
    """CO2 is distance times the diesel factor, or times energy use and the grid factor."""
    diesel = van("diesel", co2_g_per_km=240.0)
    plan = solve_valid(problem(job("a", 5000, 0), vehicles=(diesel,)))
    assert plan.co2_g == pytest.approx(240.0 * plan.distance_m / 1000)
    ev = van("ev", energy_kwh_per_km=0.2)
    ev_plan = solve_valid(problem(job("a", 5000, 0), vehicles=(ev,), grid_co2_g_per_kwh=200.0))
    assert ev_plan.co2_g == pytest.approx(40.0 * ev_plan.distance_m / 1000)


def test_every_order_is_required_when_unassignment_is_disallowed() -> None:
    """With allow_unassigned False the plan still serves everything that fits."""
    options = PlanningOptions(allow_unassigned=False)
    plan = solve_valid(problem(job("a", 500, 0), job("b", -500, 0)), options=options)
    assert plan.assigned_job_ids == {"a", "b"}


def test_capacity_constant_is_realistic() -> None:
    """The builders' van holds the 100 parcels the capacity tests assume."""
    assert VAN_CAPACITY.parcels == 100

"""Property tests: on random small problems every plan passes the independent validator."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from lastmile.routing import (
    Break,
    Depot,
    Job,
    Load,
    Problem,
    RoutingProfile,
    TimeWindow,
    VehicleType,
    validate_plan,
)
from tests.routing.builders import HOUR, PROPERTY_SETTINGS, at, solve

metres = st.floats(min_value=-4000, max_value=4000, allow_nan=False)
skill_sets = st.sets(st.sampled_from(["in_home", "age_check"]), max_size=2).map(frozenset)


@st.composite
def vehicle_types(draw: st.DrawFn, index: int, depot_ids: list[str]) -> VehicleType:
    """A vehicle type with random capacity, shift, break, range, payload, skills and profile."""
    start = draw(st.integers(7, 9)) * HOUR
    length = draw(st.integers(3, 10)) * HOUR
    depot_id = draw(st.sampled_from(depot_ids))
    breaks: tuple[Break, ...] = ()
    if draw(st.booleans()):
        earliest = start + draw(st.integers(1, max(1, length // HOUR - 2))) * HOUR
        breaks = (Break(earliest, min(earliest + HOUR, start + length - 1800), 1800),)
    return VehicleType(
        id=f"vt{index}",
        depot_id=depot_id,
        end_depot_id=draw(st.sampled_from(depot_ids)),
        capacity=Load(
            draw(st.integers(1, 8)),
            draw(st.floats(2.0, 40.0)),
            draw(st.floats(10.0, 150.0)),
        ),
        shift_start_s=start,
        shift_end_s=start + length,
        count=draw(st.integers(1, 2)),
        reload_depot_ids=(depot_id,) if draw(st.booleans()) else (),
        profile=draw(st.sampled_from(list(RoutingProfile))),
        fixed_cost=draw(st.sampled_from([0.0, 50.0])),
        max_distance_m=draw(st.one_of(st.none(), st.integers(3000, 30_000))),
        max_payload_kg=draw(st.one_of(st.none(), st.floats(1.0, 10.0))),
        skills=draw(skill_sets),
        breaks=breaks,
        co2_g_per_km=draw(st.sampled_from([0.0, 240.0])),
        energy_kwh_per_km=draw(st.sampled_from([0.0, 0.2])),
    )


@st.composite
def windows(draw: st.DrawFn) -> tuple[TimeWindow, ...]:
    """Zero to two windows between 06:00 and 20:00."""
    found = []
    for _ in range(draw(st.integers(0, 2))):
        start = draw(st.integers(6 * 60, 19 * 60)) * 60
        found.append(TimeWindow(start, start + draw(st.integers(0, 180)) * 60))
    return tuple(found)


@st.composite
def jobs(draw: st.DrawFn, index: int) -> Job:
    """An order with random place, load, times, skills, priority and stop key."""
    return Job(
        id=f"j{index}",
        location=at(draw(metres), draw(metres)),
        load=Load(draw(st.integers(1, 3)), draw(st.floats(0.1, 8.0)), draw(st.floats(1.0, 40.0))),
        service_s=draw(st.integers(0, 600)),
        setup_s=draw(st.integers(0, 120)),
        windows=draw(windows()),
        release_s=draw(st.sampled_from([0, 0, 9 * HOUR, 12 * HOUR])),
        skills=draw(st.sets(st.sampled_from(["in_home"]), max_size=1).map(frozenset)),
        priority=draw(st.integers(0, 2)),
        stop_key=draw(st.sampled_from([None, None, "k1", "k2"])),
    )


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    """A valid problem with one or two depots, up to three vehicle types and eight orders."""
    depot_ids = ["D0", "D1"][: draw(st.integers(1, 2))]
    depots = tuple(Depot(d, at(draw(metres), draw(metres))) for d in depot_ids)
    fleet = tuple(draw(vehicle_types(i, depot_ids)) for i in range(draw(st.integers(1, 3))))
    orders = tuple(draw(jobs(i)) for i in range(draw(st.integers(1, 8))))
    if draw(st.booleans()):  # a locker drop: same place and key for the keyed orders
        orders = tuple(
            replace(o, location=orders[0].location) if o.stop_key == "k1" else o for o in orders
        )
    return Problem(depots=depots, vehicle_types=fleet, jobs=orders)


@PROPERTY_SETTINGS
@given(problems())
def test_every_plan_passes_validation(instance: Problem) -> None:
    """Whatever the constraints, the plan breaks none of them and accounts for every order."""
    plan, matrices = solve(instance, iterations=300)
    assert validate_plan(instance, matrices, plan) == []
    planned = plan.assigned_job_ids | {u.job_id for u in plan.unassigned}
    assert planned == {j.id for j in instance.jobs}

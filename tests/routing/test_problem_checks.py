"""Malformed problems are refused with InvalidProblem naming the offending field."""

from __future__ import annotations

import pytest

from lastmile.routing import (
    Break,
    Coordinate,
    InvalidProblem,
    Load,
    Problem,
    TimeWindow,
    check_problem,
)
from tests.routing.builders import HOUR, depot, job, problem, van

CASES: list[tuple[str, Problem, str]] = [
    ("no vehicles", problem(job("a", 0, 0), vehicles=(van(count=0),)), "vehicle_types"),
    ("no depots", problem(job("a", 0, 0), depots=()), "depots"),
    ("unknown depot", problem(vehicles=(van(depot_id="nowhere"),)), "vehicle_types[0].depot_id"),
    (
        "unknown reload depot",
        problem(vehicles=(van(reload_depot_ids=("nowhere",)),)),
        "vehicle_types[0].reload_depot_ids",
    ),
    (
        "window ends before it starts",
        problem(job("a", 0, 0, windows=(TimeWindow(10 * HOUR, 9 * HOUR),))),
        "jobs[0].windows[0]",
    ),
    (
        "window in the past",
        problem(job("a", 0, 0, windows=(TimeWindow(8 * HOUR, 9 * HOUR),)), now_s=10 * HOUR),
        "jobs[0].windows[0]",
    ),
    ("duplicate order", problem(job("a", 0, 0), job("a", 1, 1)), "jobs[1].id"),
    ("duplicate depot", problem(depots=(depot(), depot())), "depots[1].id"),
    (
        "shift ends before it starts",
        problem(vehicles=(van(shift_start_s=10 * HOUR, shift_end_s=9 * HOUR),)),
        "vehicle_types[0].shift_end_s",
    ),
    (
        "break outside the shift",
        problem(vehicles=(van(breaks=(Break(19 * HOUR, 20 * HOUR, 1800),)),)),
        "vehicle_types[0].breaks[0]",
    ),
    (
        "negative load",
        problem(job("a", 0, 0, load=Load(1, -1.0, 0.0))),
        "jobs[0].load",
    ),
    (
        "latitude out of range",
        problem(job("a", 0, 0, location=Coordinate(91.0, 0.0))),
        "jobs[0].location",
    ),
    (
        "non-positive range",
        problem(vehicles=(van(max_distance_m=0),)),
        "vehicle_types[0].max_distance_m",
    ),
]


@pytest.mark.parametrize(("instance", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_problem_names_its_field(instance: Problem, field: str) -> None:
    """Each malformed input raises InvalidProblem with the path of the offending field."""
    with pytest.raises(InvalidProblem) as raised:
        check_problem(instance)
    assert raised.value.field == field
    assert raised.value.reason


def test_well_formed_problem_passes() -> None:
    """A valid problem raises nothing, even with orders that cannot fit."""
    check_problem(problem(job("a", 0, 0, load=Load(10_000)), vehicles=(van(),)))


def test_invalid_problem_is_a_value_error() -> None:
    """Callers catching ValueError also catch InvalidProblem."""
    assert issubclass(InvalidProblem, ValueError)

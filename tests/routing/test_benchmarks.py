"""Smoke tests of the benchmark entry points (benchmarks themselves are not tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lastmile.bench import city, vrptw
from lastmile.routing import check_problem

SOLOMON = Path(__file__).parent.parent / "data" / "routing" / "solomon"


def test_solomon_reader_and_conversion() -> None:
    """A Solomon file becomes a problem with scaled windows, demands and one fleet."""
    instance = vrptw.read_solomon(SOLOMON / "C101_9.txt")
    problem = vrptw.to_problem(instance, "dimacs")
    check_problem(problem)
    assert len(problem.jobs) == 9
    assert problem.vehicle_types[0].count == 25
    assert problem.jobs[0].windows[0].start_s == 912 * 10
    assert problem.jobs[0].service_s == 900


def test_dimacs_distances_truncate_to_one_decimal() -> None:
    """DIMACS arc lengths are Euclidean distances truncated to tenths."""
    matrix = vrptw.distance_matrix(vrptw.read_solomon(SOLOMON / "C101_9.txt"), "dimacs")
    assert matrix[0, 1] == 186  # sqrt(5² + 18²) = 18.68...


def test_vrptw_run_reports_gaps_for_us_and_peers() -> None:
    """The bench solves the excerpt with all three solvers and summarises gaps."""
    progress: list[tuple[int, int, str]] = []
    result = vrptw.run(
        SOLOMON,
        time_limit_s=0.5,
        workers=1,
        on_progress=lambda done, total, label: progress.append((done, total, label)),
    )
    assert result["mean_gap_pct"] == pytest.approx(0.0)
    assert set(result["peers"]) == {"ortools", "vroom"}
    assert result["peers"]["vroom"]["solved"] == 1
    assert progress[-1][:2] == (3, 3)


def test_generated_city_day_follows_domain_figures() -> None:
    """The Porto day has about 1.5 orders per stop, 7 % windows and a valid mixed fleet."""
    problem = city.generate_day(orders=3000, vehicles=60, seed=1)
    check_problem(problem)
    keys = {j.stop_key for j in problem.jobs}
    assert 1.3 < len(problem.jobs) / len(keys) < 1.7
    windowed = sum(1 for j in problem.jobs if j.windows) / len(problem.jobs)
    assert 0.05 < windowed < 0.09
    assert sum(vt.count for vt in problem.vehicle_types) == 60
    assert {str(vt.profile) for vt in problem.vehicle_types} == {"van", "cargo_bike"}

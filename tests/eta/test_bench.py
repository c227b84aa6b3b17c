"""Smoke test of ``lastmile bench eta`` on a small day (the benchmark itself is not a test)."""

from __future__ import annotations

from lastmile.bench.eta import run_eta_bench


def test_small_bench_reports_its_figures_deterministically() -> None:
    """Three routes give the headline figures, beat the planned-time baseline, and repeat exactly
    with the same seed."""
    first = run_eta_bench(routes=3, stops_per_route=12, seed=5)
    again = run_eta_bench(routes=3, stops_per_route=12, seed=5)
    for key in ("mae_s", "baseline_mae_s", "window_coverage", "mean_window_width_s"):
        assert first[key] == again[key]
    assert first["predictions"] > 0
    assert first["mae_s"] < first["baseline_mae_s"]
    assert 0 <= first["window_coverage"] <= 1
    assert first["arrivals_detected_share"] > 0.9
    assert first["seed"] == 5

"""`lastmile bench slots` runs end to end on a tiny day (the figures themselves are not tested)."""

from __future__ import annotations

from lastmile.bench.slots import run


def test_the_bench_quotes_warm_and_cold() -> None:
    result = run(routes=3, stops=5, quotes=3, cold_quotes=2, seed_value=1)
    assert result["orders"] == 15
    assert result["quotes"] == 3
    assert result["cold_quotes"] == 2
    assert 0 < result["p50_ms"] <= result["p95_ms"]
    assert 0 < result["cold_p50_ms"] <= result["cold_p95_ms"]

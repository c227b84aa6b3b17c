"""Smoke tests of ``lastmile bench fanout`` against the real app (the benchmark is not a test)."""

from __future__ import annotations

import pytest

from lastmile.bench.fanout import run_fanout_bench


@pytest.mark.slow
def test_every_client_gets_every_fix_in_process() -> None:
    """One server: each fix posted to /v1/positions reaches each /v1/live/fleet stream once."""
    result = run_fanout_bench(subscribers=5, fixes=5, rate_per_s=50, vehicles=2)
    assert result["subscribed"] == 5
    assert result["fixes_accepted"] == 5
    assert result["fixes_refused"] == 0
    assert result["events_expected"] == result["events_received"] == 25
    assert 0 <= result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"] <= result["max_ms"]
    assert result["from_send"]["p50_ms"] >= result["p50_ms"]
    assert set(result["from_send"]) == {"p50_ms", "p95_ms", "p99_ms", "max_ms"}


@pytest.mark.redis
@pytest.mark.slow
def test_every_client_gets_every_fix_across_two_servers(redis_url: str) -> None:
    """With Redis, fixes posted to the first of two servers reach the clients of both."""
    result = run_fanout_bench(
        subscribers=6, fixes=5, rate_per_s=50, redis_url=redis_url, servers=2, vehicles=2
    )
    assert result["backend"] == "redis"
    assert result["servers"] == 2
    assert result["fixes_accepted"] == 5
    assert result["events_expected"] == result["events_received"] == 30


def test_several_servers_need_redis() -> None:
    """Asking for two server processes without Redis is refused."""
    with pytest.raises(ValueError, match="Redis"):
        run_fanout_bench(servers=2)

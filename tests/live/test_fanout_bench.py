"""Smoke tests of ``lastmile bench fanout`` (the benchmark itself is not a test)."""

from __future__ import annotations

import pytest

from lastmile.bench.fanout import run_fanout_bench


def test_every_client_gets_every_fix_in_process() -> None:
    """With the in-process broker, each posted fix reaches each SSE client once."""
    result = run_fanout_bench(subscribers=20, fixes=5, rate_per_s=50)
    assert result["subscribed"] == 20
    assert result["events_expected"] == result["events_received"] == 100
    assert 0 <= result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"] <= result["max_ms"]
    assert set(result["from_send"]) == {"p50_ms", "p95_ms", "p99_ms", "max_ms"}


@pytest.mark.redis
def test_every_client_gets_every_fix_across_two_servers(redis_url: str) -> None:
    """With Redis, fixes posted to either of two server processes reach the clients of both."""
    result = run_fanout_bench(
        subscribers=20, fixes=6, rate_per_s=50, redis_url=redis_url, servers=2
    )
    assert result["backend"] == "redis"
    assert result["events_expected"] == result["events_received"] == 120


def test_several_servers_need_redis() -> None:
    """Asking for two server processes without Redis is refused."""
    with pytest.raises(ValueError, match="Redis"):
        run_fanout_bench(servers=2)

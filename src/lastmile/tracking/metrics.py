"""Counters for the position ingest, exported on ``/metrics`` (Prometheus text format)."""

from __future__ import annotations

from prometheus_client import Counter

FIXES = Counter(
    "lastmile_position_fixes",
    "GPS fixes received, by path and outcome (accepted or the rejection reason).",
    ["source", "outcome"],
)


def count_fixes(source: str, outcome: str, n: int = 1) -> None:
    if n:
        FIXES.labels(source=source, outcome=outcome).inc(n)

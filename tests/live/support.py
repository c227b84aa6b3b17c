"""Helpers for the live tests: run a coroutine with a deadline, build positions."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

import redis

from lastmile.live import VehiclePosition
from tests.helpers import run_async

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
    """Run ``coro`` on a fresh event loop; fail instead of hanging past ``timeout``."""
    return run_async(coro, timeout)


def position(vehicle_id: str, t: float, lat: float = 41.15, lon: float = -8.61) -> VehiclePosition:
    return VehiclePosition(
        vehicle_id=vehicle_id,
        t=t,
        lat=lat,
        lon=lon,
        speed_mps=8.5,
        heading_deg=90.0,
        accuracy_m=5.0,
        battery=None,
        driver_id="drv_1",
        received_at=t + 0.5,
    )


def delete_keys(url: str, prefix: str) -> None:
    """Remove what a test stored under ``prefix``."""
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()

"""What the benches that drive a real server share: seeding, ports, start-up, shutdown, stats."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

DEPOT = (41.15, -8.61)  # Porto: where the bench fleet's depot is


@dataclass(frozen=True)
class BenchTenant:
    organization_id: str
    token: str
    vehicle_ids: list[str]


def seed_tenant(url: str, vehicles: int) -> BenchTenant:
    """A migrated database with one organisation, its dispatcher and ``vehicles`` vans."""
    from lastmile.auth.models import Role
    from lastmile.auth.service import create_user, issue_access_token
    from lastmile.db.engine import Database
    from lastmile.db.migrate import upgrade
    from lastmile.fleet.models import Depot, DepotKind, Vehicle, VehicleType
    from lastmile.kit.crypto import random_token
    from lastmile.kit.ids import new_id
    from lastmile.organizations.service import create_organization
    from lastmile.routing.profiles import RoutingProfile

    upgrade(url)
    db = Database(url)
    try:
        with db.unit_of_work() as session:
            org = create_organization(session, "Fan-out bench", "Europe/Lisbon")
            user = create_user(
                session, org.id, email=f"dispatch-{org.id[-8:]}@bench.example.org",
                name="Bench dispatcher", role=Role.dispatcher, password=random_token(),
            )  # fmt: skip
            token = issue_access_token(session, user, timedelta(hours=12)).token
            depot = Depot(
                id=new_id("dep"), organization_id=org.id, name="Bench depot",
                kind=DepotKind.depot, lat=DEPOT[0], lon=DEPOT[1], opening_hours=[],
            )  # fmt: skip
            session.add(depot)
            session.flush()
            fleet = [
                Vehicle(
                    id=new_id("veh"), organization_id=org.id, name=f"Van {n + 1}",
                    type=VehicleType.van, capacity_parcels=120, capacity_kg=800.0,
                    capacity_litres=5000.0, avg_speed_kmh=30.0,
                    routing_profile=RoutingProfile.VAN, home_depot_id=depot.id,
                )
                for n in range(vehicles)
            ]  # fmt: skip
            session.add_all(fleet)
            session.flush()
            return BenchTenant(org.id, token, [v.id for v in fleet])
    finally:
        db.dispose()


def percentiles(latencies_ms: list[float]) -> dict[str, float | None]:
    if not latencies_ms:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(latencies_ms)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99), "max_ms": at(1.0)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_servers(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def forget_positions(redis_url: str, organization_id: str) -> None:
    """Drop the bench organisation's hot positions from the shared Redis."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
    with contextlib.suppress(redis.RedisError):
        client.delete(f"lastmile:latest:{organization_id}")
    client.close()


async def wait_until_serving(port: int, died: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            if b" 200 " in await reader.readline():
                writer.close()
                return
            writer.close()
        except OSError:
            pass
        if died() or time.monotonic() > deadline:
            raise RuntimeError(f"the bench server on port {port} did not start")
        await asyncio.sleep(0.1)

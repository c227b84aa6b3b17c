"""``lastmile bench ingest``: fixes per second accepted through ``POST /v1/positions``.

The real application (``lastmile.app:create_app``) runs under uvicorn in a process of its own,
on a fresh SQLite file, or on a fresh PostgreSQL schema with Redis for the broker and the hot
positions, seeded with an organisation of ``vehicles`` vehicles and a dispatcher. A load
generator in another process keeps ``connections`` HTTP/1.1 connections busy (closed loop:
each sends its next request as soon as the last is answered). Each request is one vehicle's
batch of ``batch`` pings 2 s apart, moving a few metres per ping: a gateway relaying its devices
(the dispatcher's token, naming the vehicle) or, with ``drivers``, each vehicle's own driver.

The warm-up sends one batch for every vehicle, so that, as in a fleet that has been reporting,
each has a latest position; throughput then counts the fixes the answers report accepted during
``seconds``. Afterwards the stored rows are counted: they must equal every fix accepted.
"""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, Any

from lastmile.bench.server import (
    DEPOT,
    forget_positions,
    free_port,
    percentiles,
    seed_tenant,
    stop_servers,
    wait_until_serving,
)

PATH = "/v1/positions"
PING_S = 2  # every vehicle pings every 2 s (issue #4's fleet)
SPEED_MPS = 5.0  # how far a vehicle moves between pings: 10 m
FIRST_FIX_AGO_S = 900  # the first batches carry fixes from 15 minutes ago


@dataclass(frozen=True)
class Load:
    """What the load generator does (sent to its process)."""

    port: int
    tokens: list[str]  # one per vehicle, or a single gateway token for all
    vehicle_ids: list[str]
    batch: int
    connections: int
    seconds: float


@dataclass
class Tally:
    """What the load generator saw: per measured request its latency and fixes accepted."""

    elapsed_s: float = 0.0  # of the measured part, from its first request to its last answer
    warmup_accepted: int = 0
    latency_ms: list[float] = field(default_factory=list)
    accepted: list[int] = field(default_factory=list)
    refused: int = 0
    refusals: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def run(
    *,
    database_url: str | None = None,
    redis_url: str | None = None,
    vehicles: int = 10_000,
    batch: int = 10,
    seconds: float = 20.0,
    connections: int = 8,
    drivers: bool = False,
    workers: int = 1,
    on_progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """
    Serve the app, seed ``vehicles`` vehicles, post a batch for each, then for ``seconds``.

    Parameters
    ----------
    database_url
        A PostgreSQL server to use (a fresh schema is made and dropped); default a fresh
        SQLite file.
    redis_url
        Serve with ``LASTMILE_REDIS_URL`` (live broker and hot positions in Redis).
    batch
        Fixes per request: one vehicle's pings, ``PING_S`` apart.
    drivers
        Each vehicle reports with its own driver's token instead of one gateway token.
    workers
        Server processes sharing the port (``lastmile serve --workers``).

    Returns
    -------
    dict
        ``fixes_per_s`` and ``requests_per_s`` in the measured window, request latency
        ``p50_ms``/``p95_ms``/``p99_ms``/``max_ms``, ``accepted`` and ``refused`` over the
        whole run (warm-up included), ``stored`` (rows afterwards) and the run's settings.
    """
    if min(vehicles, batch, connections, workers) < 1 or seconds <= 0:
        raise ValueError("vehicles, batch, connections, workers and seconds must be positive")
    progress = on_progress or (lambda _message: None)
    backend = ("postgresql" if database_url else "sqlite") + ("+redis" if redis_url else "")
    with tempfile.TemporaryDirectory(prefix="lastmile-ingest-") as tmp_dir:
        tmp = Path(tmp_dir)
        with _database(database_url, tmp) as url:
            progress(f"seeding {vehicles} vehicles ({backend})")
            tenant = seed_tenant(url, vehicles)
            tokens = _driver_tokens(url, tenant.vehicle_ids) if drivers else [tenant.token]
            env = {k: v for k, v in os.environ.items() if not k.startswith("LASTMILE_")}
            env |= {
                "LASTMILE_DATABASE_URL": url,
                "LASTMILE_ENVIRONMENT": "test",
                "LASTMILE_DATA_DIR": str(tmp),
            }
            if redis_url:
                env["LASTMILE_REDIS_URL"] = redis_url
            port = free_port()
            log_path = tmp / "server.log"
            load = Load(port, tokens, tenant.vehicle_ids, batch, connections, seconds)
            try:
                with log_path.open("wb") as log:
                    server = _serve(port, workers, env, log)
                    try:
                        asyncio.run(wait_until_serving(port, lambda: server.poll() is not None))
                        progress(
                            f"posting batches of {batch} on {connections} connections: "
                            f"a warm-up batch per vehicle, then {seconds:g} s measured"
                        )
                        tally = _generate_elsewhere(load)
                    finally:
                        stop_servers([server])
                progress("counting the stored fixes")
                stored = _stored(url)
            except Exception as exc:
                tail = log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"ingest bench failed: {exc!r}; server log: {tail}") from exc
            finally:
                if redis_url:
                    forget_positions(redis_url, tenant.organization_id)
    credential = "drivers" if drivers else "gateway"
    return _result(tally, load, stored) | {
        "credential": credential,
        "backend": backend,
        "workers": workers,
        "cpus": os.cpu_count(),
    }


def _result(tally: Tally, load: Load, stored: int) -> dict[str, Any]:
    accepted = tally.warmup_accepted + sum(tally.accepted)
    return {
        "fixes_per_s": round(sum(tally.accepted) / tally.elapsed_s),
        "requests_per_s": round(len(tally.accepted) / tally.elapsed_s, 1),
        **percentiles(tally.latency_ms),
        "accepted": accepted,
        "refused": tally.refused,
        "refusals": tally.refusals,
        "stored": stored,
        "stored_equals_accepted": stored == accepted,
        "errors": tally.errors[:5],
        "batch": load.batch,
        "vehicles": len(load.vehicle_ids),
        "connections": load.connections,
        "seconds": load.seconds,
    }


def _serve(port: int, workers: int, env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    """The app factory under uvicorn, as ``lastmile serve`` runs it, configured by ``env``."""
    command = [
        sys.executable, "-m", "uvicorn", "lastmile.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


@contextmanager
def _database(server_url: str | None, tmp: Path) -> Iterator[str]:
    """A URL for an empty database: a SQLite file in ``tmp``, or a fresh PostgreSQL schema."""
    if server_url is None:
        yield f"sqlite:///{tmp / 'bench.sqlite'}"
        return
    from sqlalchemy import text

    from lastmile.db.engine import Database

    schema = f"lm_bench_ingest_{os.getpid()}"
    admin = Database(server_url)
    try:
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in server_url else "?"
        yield f"{server_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _driver_tokens(url: str, vehicle_ids: list[str]) -> list[str]:
    """A driver user and access token per vehicle (drivers report the vehicle they drive)."""
    from sqlalchemy import select

    from lastmile.auth.models import Role, User
    from lastmile.auth.service import issue_access_token
    from lastmile.db.engine import Database
    from lastmile.fleet.models import Driver, Vehicle
    from lastmile.kit.crypto import DUMMY_PASSWORD_HASH
    from lastmile.kit.ids import new_id

    db = Database(url)
    try:
        with db.unit_of_work() as session:
            org = session.scalars(select(Vehicle.organization_id).limit(1)).one()
            users = [
                User(
                    id=new_id("usr"), organization_id=org, email=f"driver-{n}@bench.example.org",
                    name=f"Driver {n}", role=Role.driver, password_hash=DUMMY_PASSWORD_HASH,
                )
                for n in range(len(vehicle_ids))
            ]  # fmt: skip
            session.add_all(users)
            session.add_all(
                Driver(id=new_id("drv"), organization_id=org, name=u.name, user_id=u.id)
                for u in users
            )
            session.flush()
            return [issue_access_token(session, u, timedelta(hours=12)).token for u in users]
    finally:
        db.dispose()


def _stored(url: str) -> int:
    from sqlalchemy import func, select

    from lastmile.db.engine import Database
    from lastmile.tracking.models import PositionFix

    db = Database(url)
    try:
        with db.unit_of_work(readonly=True) as session:
            return int(session.scalar(select(func.count()).select_from(PositionFix)) or 0)
    finally:
        db.dispose()


# --- the load generator (its own process) -----------------------------------------------------


def _generate_elsewhere(load: Load) -> Tally:
    """Run the load generator in a spawned process; its tally comes back through a pipe."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_generate, args=(load, sender), name="ingest-load")
    process.start()
    sender.close()
    try:
        tally: Tally = receiver.recv()
    except EOFError:
        process.join(30)
        raise RuntimeError(f"the load generator died (exit code {process.exitcode})") from None
    process.join(30)
    return tally


def _generate(load: Load, sender: Connection) -> None:
    sender.send(asyncio.run(_drive(load)))
    sender.close()


@dataclass
class _Fleet:
    """Each vehicle's next ping time (UNIX seconds) and position, moving along a heading."""

    load: Load
    t: list[int] = field(init=False)
    lat: list[float] = field(init=False)
    lon: list[float] = field(init=False)
    step: list[tuple[float, float]] = field(init=False)  # degrees per ping (lat, lon)
    requests: int = 0  # made so far; the next is for vehicle ``requests % len(vehicles)``

    def __post_init__(self) -> None:
        count = len(self.load.vehicle_ids)
        first = int(time.time()) - FIRST_FIX_AGO_S
        metres = SPEED_MPS * PING_S
        per_lon = 111_320 * math.cos(math.radians(DEPOT[0]))
        self.t = [first + n % PING_S for n in range(count)]
        self.lat = [DEPOT[0] + (n % 100 - 50) * 0.001 for n in range(count)]
        self.lon = [DEPOT[1] + (n // 100 - 50) * 0.001 for n in range(count)]
        headings = [math.radians(n * 137.5 % 360) for n in range(count)]
        self.step = [(metres * math.cos(h) / 111_320, metres * math.sin(h) / per_lon)
                     for h in headings]  # fmt: skip

    def request(self) -> bytes:
        """The next vehicle's next batch, as a whole HTTP request."""
        n = self.requests % len(self.load.vehicle_ids)
        self.requests += 1
        dlat, dlon = self.step[n]
        fixes = []
        for _ in range(self.load.batch):
            self.lat[n] += dlat
            self.lon[n] += dlon
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.t[n]))
            fixes.append(
                f'{{"t":"{stamp}","lat":{self.lat[n]:.6f},"lon":{self.lon[n]:.6f},'
                f'"accuracy":8,"speed":{SPEED_MPS},"battery":0.8}}'
            )
            self.t[n] += PING_S
        body = f'{{"vehicle_id":"{self.load.vehicle_ids[n]}","fixes":[{",".join(fixes)}]}}'
        token = self.load.tokens[n % len(self.load.tokens)]
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return (head + body).encode()


async def _drive(load: Load) -> Tally:
    fleet, tally = _Fleet(load), Tally()
    connections = [await asyncio.open_connection("127.0.0.1", load.port)
                   for _ in range(load.connections)]  # fmt: skip
    try:
        warmup = Tally()  # one batch per vehicle: every vehicle has a latest position
        await asyncio.gather(*(_post(r, w, fleet, warmup, budget=len(load.vehicle_ids))
                               for r, w in connections))  # fmt: skip
        tally.warmup_accepted, tally.refused = sum(warmup.accepted), warmup.refused
        tally.refusals, tally.errors = warmup.refusals, warmup.errors
        started = time.perf_counter()
        await asyncio.gather(*(_post(r, w, fleet, tally, until=started + load.seconds)
                               for r, w in connections))  # fmt: skip
        tally.elapsed_s = time.perf_counter() - started
    finally:
        for _, writer in connections:
            writer.close()
    return tally


async def _post(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    fleet: _Fleet,
    tally: Tally,
    *,
    budget: int | None = None,
    until: float | None = None,
) -> None:
    """Post batches back to back until the fleet has made ``budget`` requests (all the
    connections together, so that none idles long enough for the server to close it) or
    until ``until`` (perf_counter)."""
    while (budget is None or fleet.requests < budget) and (
        until is None or time.perf_counter() < until
    ):
        request = fleet.request()
        started = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        body = await reader.readexactly(length)
        latency_ms = (time.perf_counter() - started) * 1000
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            tally.errors.append(f"{head.split(b' ', 2)[1].decode()}: {body[:300].decode()}")
            continue
        report = json.loads(body)
        tally.latency_ms.append(latency_ms)
        tally.accepted.append(report["accepted"])
        tally.refused += len(report["refused"])
        for refusal in report["refused"]:
            tally.refusals[refusal["reason"]] = tally.refusals.get(refusal["reason"], 0) + 1

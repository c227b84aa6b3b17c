"""``lastmile bench fanout``: from a fix accepted to the event at every one of 1,000 SSE clients.

The real application (``lastmile.app:create_app``) runs under uvicorn in one server process, or
several sharing a SQLite file and Redis, seeded with an organisation, a dispatcher and a few
vehicles. This process opens ``GET /v1/live/fleet`` streams on raw asyncio sockets as that
dispatcher, waits until every one is subscribed, then posts one fix at a time to
``POST /v1/positions`` (a gateway naming the vehicle; vehicles round-robin, each moving a few
metres per fix) at a steady rate and notes when each ``position`` event reaches each client.

Latency counts from the event's ``received_at``: the server's clock when the ingest accepted
the fix (issue #4's "fix accepted"; taken before the fix is stored and committed), and for
reference from the POST being sent (``from_send``) and its answer arriving (``from_response``).
Same clock, same machine. Events are parsed only after the run, so the load generator spends
its time reading sockets while it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from lastmile.bench.server import (
    DEPOT,
    BenchTenant,
    forget_positions,
    free_port,
    percentiles,
    seed_tenant,
    stop_servers,
    wait_until_serving,
)

SSE_PATH = "/v1/live/fleet"
POST_PATH = "/v1/positions"
OPENING = b": connected"  # the first line sse_response writes, once the client is subscribed
POSITION = b"event: position\n"
SPEED_MPS = 10.0  # how fast each vehicle moves between its fixes (36 km/h)


@dataclass
class _Clock:
    """What the load generator saw: when each fix was sent and answered, when events arrived."""

    keys: dict[tuple[str, int], int] = field(default_factory=dict)  # (vehicle, t ms) -> seq
    sent: dict[int, float] = field(default_factory=dict)
    answered: dict[int, float] = field(default_factory=dict)
    accepted: int = 0
    refused: list[str] = field(default_factory=list)
    arrivals: list[tuple[int, bytes, float]] = field(default_factory=list)  # client, raw, at
    subscribed: int = 0
    failed: int = 0


def run_fanout_bench(
    subscribers: int = 1000,
    fixes: int = 200,
    rate_per_s: float = 20.0,
    redis_url: str | None = None,
    servers: int = 1,
    vehicles: int = 5,
    connect_concurrency: int = 100,
    on_progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Serve the app, connect ``subscribers`` SSE clients, post ``fixes``, time delivery.

    Parameters
    ----------
    subscribers
        Concurrent ``/v1/live/fleet`` streams, split evenly over the ``servers``.
    fixes
        Fixes posted to the first server, one every ``1 / rate_per_s`` seconds, one per
        request, to ``vehicles`` vehicles in turn.
    redis_url
        Serve with ``LASTMILE_REDIS_URL`` (broker and hot positions; needed for several
        servers).
    servers
        uvicorn processes; with several, every event crosses Redis to reach the others.

    Returns
    -------
    dict
        ``subscribers``, ``events_expected`` (accepted fixes x subscribed clients),
        ``events_received``, and latency percentiles ``p50_ms``/``p95_ms``/``p99_ms``/``max_ms``
        from "fix accepted" (the event's ``received_at``). For reference the same from the POST
        being sent (``from_send``), from its answer arriving (``from_response``; often
        negative: the event can beat the response) and the POST round trip (``post``).
    """
    if servers > 1 and not redis_url:
        raise ValueError("several server processes share events only through Redis")
    if servers < 1 or vehicles < 1 or subscribers < 1:
        raise ValueError("servers, vehicles and subscribers must be at least 1")
    _raise_open_files_limit(subscribers + 256)  # the servers inherit it
    progress = on_progress or (lambda _message: None)
    with tempfile.TemporaryDirectory(prefix="lastmile-fanout-") as tmp_dir:
        tmp = Path(tmp_dir)
        url = f"sqlite:///{tmp / 'bench.sqlite'}"
        progress("migrating and seeding the bench database")
        tenant = seed_tenant(url, vehicles)
        env = {k: v for k, v in os.environ.items() if not k.startswith("LASTMILE_")}
        env |= {
            "LASTMILE_DATABASE_URL": url,
            "LASTMILE_ENVIRONMENT": "test",
            "LASTMILE_DATA_DIR": str(tmp),
        }
        if redis_url:
            env["LASTMILE_REDIS_URL"] = redis_url
        ports = [free_port() for _ in range(servers)]
        logs = [(tmp / f"server-{n}.log").open("wb") for n in range(servers)]
        procs = [_start_server(port, env, log) for port, log in zip(ports, logs, strict=True)]
        try:
            try:
                clock = asyncio.run(
                    _drive(
                        ports, tenant, subscribers, fixes, rate_per_s, connect_concurrency,
                        progress, died=lambda: any(p.poll() is not None for p in procs),
                    )
                )  # fmt: skip
            finally:
                stop_servers(procs)
                for log in logs:
                    log.close()
        except Exception as exc:
            tails = [(tmp / f"server-{n}.log").read_text(errors="replace")[-3000:]
                     for n in range(servers)]  # fmt: skip
            raise RuntimeError(f"fan-out bench failed: {exc!r}; server logs: {tails}") from exc
        finally:
            if redis_url:
                forget_positions(redis_url, tenant.organization_id)
    return _result(clock, tenant, redis_url, servers, subscribers, fixes, rate_per_s)


def _result(
    clock: _Clock,
    tenant: BenchTenant,
    redis_url: str | None,
    servers: int,
    subscribers: int,
    fixes: int,
    rate_per_s: float,
) -> dict[str, Any]:
    from_accepted: list[float] = []
    from_send: list[float] = []
    from_response: list[float] = []
    seen: set[tuple[int, int]] = set()
    for client, message, at in clock.arrivals:
        data = json.loads(message.split(b"\ndata: ", 1)[1].split(b"\n", 1)[0])
        seq = clock.keys.get((data["vehicle_id"], _epoch_ms(data["at"])))
        if seq is None or (client, seq) in seen:  # not posted by this run, or seen already
            continue
        seen.add((client, seq))
        received_at = datetime.fromisoformat(data["received_at"]).timestamp()
        from_accepted.append((at - received_at) * 1000)
        from_send.append((at - clock.sent[seq]) * 1000)
        from_response.append((at - clock.answered[seq]) * 1000)
    post_ms = [(clock.answered[s] - clock.sent[s]) * 1000 for s in clock.answered]
    return {
        "backend": "redis" if redis_url else "in-process",
        "servers": servers,
        "subscribers": subscribers,
        "subscribed": clock.subscribed,
        "vehicles": len(tenant.vehicle_ids),
        "fixes": fixes,
        "fixes_accepted": clock.accepted,
        "fixes_refused": len(clock.refused),
        "rate_per_s": rate_per_s,
        "events_expected": clock.accepted * clock.subscribed,
        "events_received": len(from_accepted),
        **percentiles(from_accepted),
        "from_send": percentiles(from_send),
        "from_response": percentiles(from_response),
        "post": percentiles(post_ms),
    }


async def _drive(
    ports: list[int],
    tenant: BenchTenant,
    subscribers: int,
    fixes: int,
    rate_per_s: float,
    connect_concurrency: int,
    progress: Callable[[str], None],
    died: Callable[[], bool],
) -> _Clock:
    clock = _Clock()
    for port in ports:
        await wait_until_serving(port, died)
    progress(f"connecting {subscribers} SSE clients")
    gate = asyncio.Semaphore(connect_concurrency)
    all_in = asyncio.Event()
    clients = [
        asyncio.create_task(
            _subscriber(n, ports[n % len(ports)], tenant.token, gate, clock, subscribers, all_in)
        )
        for n in range(subscribers)
    ]
    with contextlib.suppress(TimeoutError):  # then report what did subscribe
        await asyncio.wait_for(all_in.wait(), 120)
    progress(f"{clock.subscribed} subscribed; posting {fixes} fixes at {rate_per_s}/s")
    reader, writer = await asyncio.open_connection("127.0.0.1", ports[0])
    # Each vehicle drives east at SPEED_MPS: its fixes are 1 / rate * vehicles apart in time.
    metres_per_fix = SPEED_MPS * len(tenant.vehicle_ids) / rate_per_s
    step_deg = metres_per_fix / (111_320 * math.cos(math.radians(DEPOT[0])))
    last_ms = dict.fromkeys(tenant.vehicle_ids, 0)
    start = time.monotonic()
    for seq in range(fixes):
        await asyncio.sleep(max(0.0, start + seq / rate_per_s - time.monotonic()))
        lap, turn = divmod(seq, len(tenant.vehicle_ids))
        vehicle_id = tenant.vehicle_ids[turn]
        t_ms = max(int(time.time() * 1000), last_ms[vehicle_id] + 1)  # distinct per vehicle
        last_ms[vehicle_id] = t_ms
        fix = {
            "t": _iso_ms(t_ms),
            "lat": DEPOT[0] + 0.001 * turn,
            "lon": DEPOT[1] + step_deg * lap,
            "accuracy": 8,
        }
        clock.keys[(vehicle_id, t_ms)] = seq
        await _post_fix(reader, writer, tenant.token, seq, vehicle_id, fix, clock)
    expected = clock.accepted * clock.subscribed
    deadline = time.monotonic() + 10
    while len(clock.arrivals) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for task in clients:
        task.cancel()
    await asyncio.gather(*clients, return_exceptions=True)
    writer.close()
    return clock


async def _subscriber(
    client: int,
    port: int,
    token: str,
    gate: asyncio.Semaphore,
    clock: _Clock,
    total: int,
    all_in: asyncio.Event,
) -> None:
    async with gate:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            request = (
                f"GET {SSE_PATH} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n"
                f"Authorization: Bearer {token}\r\n\r\n"
            )
            writer.write(request.encode())
            head = await reader.readuntil(b"\r\n\r\n")
            if b" 200 " not in head.split(b"\r\n", 1)[0]:
                raise ConnectionError(head.decode(errors="replace"))
        except (OSError, asyncio.IncompleteReadError):
            clock.failed += 1
            if clock.subscribed + clock.failed >= total:
                all_in.set()
            return
    buffer = b""
    subscribed = False
    arrivals = clock.arrivals
    try:
        while True:
            buffer += await _read_chunk(reader)
            *messages, buffer = buffer.split(b"\n\n")
            now = time.time()
            for message in messages:
                if message.startswith(POSITION):
                    arrivals.append((client, message, now))  # parsed after the run
                elif not subscribed and message.startswith(OPENING):
                    subscribed = True
                    clock.subscribed += 1
                    if clock.subscribed + clock.failed >= total:
                        all_in.set()
    finally:
        writer.close()


async def _read_chunk(reader: asyncio.StreamReader) -> bytes:
    """One chunk of a ``Transfer-Encoding: chunked`` body (how uvicorn streams SSE)."""
    size = int((await reader.readline()).split(b";", 1)[0], 16)
    if size == 0:
        raise ConnectionError("stream ended")
    chunk = await reader.readexactly(size + 2)
    return chunk[:-2]


async def _post_fix(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    token: str,
    seq: int,
    vehicle_id: str,
    fix: dict[str, Any],
    clock: _Clock,
) -> None:
    body = json.dumps({"fixes": [fix], "vehicle_id": vehicle_id}).encode()
    head = (
        f"POST {POST_PATH} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    clock.sent[seq] = time.time()
    writer.write(head.encode() + body)
    response = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in response.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    answer = await reader.readexactly(length)
    clock.answered[seq] = time.time()
    if b" 200 " not in response.split(b"\r\n", 1)[0]:
        raise RuntimeError(f"the server refused a fix: {response!r} {answer!r}")
    report = json.loads(answer)
    clock.accepted += report["accepted"]
    clock.refused += [f"{r['reason']}: {r['detail']}" for r in report["refused"]]


def _iso_ms(t_ms: int) -> str:
    moment = datetime.fromtimestamp(t_ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _epoch_ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso).timestamp() * 1000)


def _raise_open_files_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(hard, max(needed, soft))
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _start_server(port: int, env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "lastmile.bench.fanout", "--port", str(port)]
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def _serve() -> None:
    """One server process: the app factory under uvicorn, configured by ``LASTMILE_*``."""
    import uvicorn

    parser = argparse.ArgumentParser(description="The fan-out bench's server process.")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    _raise_open_files_limit(4096)
    uvicorn.run(
        "lastmile.app:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        backlog=4096,
    )


if __name__ == "__main__":
    _serve()

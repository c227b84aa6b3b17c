"""``lastmile bench fanout``: from a fix accepted to the event at every one of 1,000 SSE clients.

A uvicorn server (one process, or several sharing events through Redis) runs ``bench_app``: an
SSE endpoint built like the live views (``broker.subscribe`` + ``sse_response``) and a sync POST
endpoint that publishes, as the ingest does from the threadpool. This process opens the SSE
connections on raw asyncio streams, waits until every one is subscribed, then posts fixes at a
steady rate and notes when each event reaches each client. Latency counts from the moment the
server accepted the fix (issue #4's target), and for reference from the POST being sent.

To measure the real endpoints instead, change ``bench_app`` and the ``SSE_PATH``/``POST_PATH``
requests; the client side does not depend on the app.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from lastmile.live import LiveEvent, LiveStreamResponse, build_broker, sse_response

SSE_PATH = "/live/fleet"
POST_PATH = "/fixes"
CHANNEL = "fleet:bench"
OPENING = b": connected"  # the first line sse_response writes, once the client is subscribed


def bench_app(redis_url: str | None = None, prefix: str = "lastmile") -> FastAPI:
    """The server under test: the broker and SSE path of the live views, without the database."""
    broker = build_broker(redis_url, prefix=prefix)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await broker.start()
        yield
        await broker.stop()

    app = FastAPI(lifespan=lifespan)

    @app.get(SSE_PATH, response_class=LiveStreamResponse)
    async def live() -> LiveStreamResponse:
        return sse_response(broker.subscribe(CHANNEL))

    @app.post(POST_PATH)
    def accept(fix: dict[str, Any]) -> dict[str, bool]:
        # Stamped like the ingest's received_at: the moment the server accepted the fix.
        broker.publish(CHANNEL, LiveEvent("position", {**fix, "received_at": time.time()}))
        return {"accepted": True}

    @app.get("/healthz")
    def health() -> dict[str, bool]:
        return {"ok": True}

    return app


@dataclass
class _Clock:
    """What the load generator saw: when each fix was sent and accepted, when each arrived."""

    sent: dict[int, float] = field(default_factory=dict)
    answered: dict[int, float] = field(default_factory=dict)
    arrivals: list[tuple[int, float, float]] = field(default_factory=list)  # seq, accepted, at
    subscribed: int = 0
    failed: int = 0


def run_fanout_bench(
    subscribers: int = 1000,
    fixes: int = 200,
    rate_per_s: float = 20.0,
    redis_url: str | None = None,
    servers: int = 1,
    connect_concurrency: int = 100,
    on_progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Serve ``bench_app``, connect ``subscribers`` SSE clients, post ``fixes``, time delivery.

    Parameters
    ----------
    subscribers
        Concurrent SSE connections, split evenly over the ``servers``.
    fixes
        Fixes posted, one every ``1 / rate_per_s`` seconds, alternating between servers.
    redis_url
        Serve with the Redis broker (required for more than one server process).
    servers
        uvicorn processes; with several, every event crosses Redis to reach the others.

    Returns
    -------
    dict
        ``subscribers``, ``events_expected``, ``events_received``, and latency percentiles
        ``p50_ms``/``p95_ms``/``p99_ms``/``max_ms`` from "fix accepted" (the server's stamp,
        taken just before it publishes; same clock, same machine). For reference the same from
        the POST being sent (``from_send``) and from its response arriving
        (``from_response``; often negative: the event can beat the response).
    """
    if servers > 1 and not redis_url:
        raise ValueError("several server processes share events only through Redis")
    _raise_open_files_limit(subscribers + 256)
    progress = on_progress or (lambda _message: None)
    prefix = f"lastmile-bench-{uuid.uuid4().hex[:8]}"
    ports = [_free_port() for _ in range(servers)]
    procs = [_start_server(port, redis_url, prefix) for port in ports]
    try:
        clock = asyncio.run(
            _drive(ports, subscribers, fixes, rate_per_s, connect_concurrency, progress)
        )
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    ms = [
        ((at - accepted) * 1000, (at - clock.sent[seq]) * 1000, (at - clock.answered[seq]) * 1000)
        for seq, accepted, at in clock.arrivals
    ]
    return {
        "backend": "redis" if redis_url else "in-process",
        "servers": servers,
        "subscribers": subscribers,
        "subscribed": clock.subscribed,
        "fixes": fixes,
        "rate_per_s": rate_per_s,
        "events_expected": fixes * clock.subscribed,
        "events_received": len(clock.arrivals),
        **_percentiles([m[0] for m in ms]),
        "from_send": _percentiles([m[1] for m in ms]),
        "from_response": _percentiles([m[2] for m in ms]),
    }


async def _drive(
    ports: list[int],
    subscribers: int,
    fixes: int,
    rate_per_s: float,
    connect_concurrency: int,
    progress: Callable[[str], None],
) -> _Clock:
    clock = _Clock()
    for port in ports:
        await _wait_until_serving(port)
    progress(f"connecting {subscribers} SSE clients")
    gate = asyncio.Semaphore(connect_concurrency)
    all_in = asyncio.Event()
    clients = [
        asyncio.create_task(_subscriber(ports[n % len(ports)], gate, clock, subscribers, all_in))
        for n in range(subscribers)
    ]
    with contextlib.suppress(TimeoutError):  # then report what did subscribe
        await asyncio.wait_for(all_in.wait(), 120)
    progress(f"{clock.subscribed} subscribed; posting {fixes} fixes at {rate_per_s}/s")
    posters = [await asyncio.open_connection("127.0.0.1", port) for port in ports]
    start = time.monotonic()
    for seq in range(fixes):
        await asyncio.sleep(max(0.0, start + seq / rate_per_s - time.monotonic()))
        reader, writer = posters[seq % len(posters)]
        await _post_fix(reader, writer, seq, clock)
    expected = fixes * clock.subscribed
    deadline = time.monotonic() + 10
    while len(clock.arrivals) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for task in clients:
        task.cancel()
    await asyncio.gather(*clients, return_exceptions=True)
    for _, writer in posters:
        writer.close()
    return clock


async def _subscriber(
    port: int, gate: asyncio.Semaphore, clock: _Clock, total: int, all_in: asyncio.Event
) -> None:
    async with gate:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            request = f"GET {SSE_PATH} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n"
            writer.write(request.encode())
            head = await reader.readuntil(b"\r\n\r\n")
            if b" 200 " not in head.split(b"\r\n", 1)[0]:
                raise ConnectionError(head.decode(errors="replace"))
        except (OSError, asyncio.IncompleteReadError):
            clock.failed += 1
            return
    buffer = b""
    subscribed = False
    try:
        while True:
            buffer += await _read_chunk(reader)
            *messages, buffer = buffer.split(b"\n\n")
            now = time.time()
            for message in messages:
                if not subscribed and message.startswith(OPENING):
                    subscribed = True
                    clock.subscribed += 1
                    if clock.subscribed + clock.failed >= total:
                        all_in.set()
                elif message.startswith(b"event: position\n"):
                    data = json.loads(message.split(b"\ndata: ", 1)[1].split(b"\n", 1)[0])
                    clock.arrivals.append((data["seq"], data["received_at"], now))
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
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seq: int, clock: _Clock
) -> None:
    fix = {"seq": seq, "vehicle_id": f"veh_{seq % 50}", "lat": 41.15, "lon": -8.61,
           "speed_mps": 8.3, "heading_deg": 90.0, "t": time.time()}  # fmt: skip
    body = json.dumps(fix).encode()
    head = (
        f"POST {POST_PATH} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    clock.sent[seq] = time.time()
    writer.write(head.encode() + body)
    response = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in response.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)
    clock.answered[seq] = time.time()
    if b" 200 " not in response.split(b"\r\n", 1)[0]:
        raise RuntimeError(f"the server refused a fix: {response!r}")


def _percentiles(latencies_ms: list[float]) -> dict[str, float | None]:
    if not latencies_ms:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(latencies_ms)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99), "max_ms": at(1.0)}


def _raise_open_files_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(hard, max(needed, soft))
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_server(port: int, redis_url: str | None, prefix: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "lastmile.bench.fanout", "--port", str(port)]
    command += ["--prefix", prefix] + (["--redis-url", redis_url] if redis_url else [])
    return subprocess.Popen(command)


async def _wait_until_serving(port: int) -> None:
    deadline = time.monotonic() + 30
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
        if time.monotonic() > deadline:
            raise RuntimeError(f"the bench server on port {port} did not start")
        await asyncio.sleep(0.1)


def _serve() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="The fan-out bench's server process.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url")
    parser.add_argument("--prefix", default="lastmile")
    args = parser.parse_args()
    _raise_open_files_limit(4096)
    uvicorn.run(
        bench_app(args.redis_url, args.prefix),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        backlog=4096,
    )


if __name__ == "__main__":
    _serve()

"""SSE streams of a subscription: what a live view's client reads, and leaving on hang-up."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import uvicorn
from fastapi import FastAPI

from lastmile.live import InProcessBroker, LiveEvent, LiveStreamResponse, sse_response
from tests.live.support import run


def test_event_wire_format() -> None:
    """An event encodes as ``event:``, one-line JSON ``data:`` and ``id:`` when it has one."""
    assert LiveEvent("eta", {"note": "a\nb"}, id="4").sse() == (
        b'event: eta\ndata: {"note":"a\\nb"}\nid: 4\n\n'
    )
    assert LiveEvent("status", {}).sse() == b"event: status\ndata: {}\n\n"


@pytest.mark.parametrize(("kind", "event_id"), [("a\nb", None), ("", None), ("ok", "1\r\n")])
def test_event_refuses_fields_that_would_break_the_stream(kind: str, event_id: str | None) -> None:
    """A kind or id that could inject SSE fields is refused when the event is made."""
    with pytest.raises(ValueError, match="bad event"):
        LiveEvent(kind, {}, id=event_id)


def test_stream_opens_then_replays_first_then_goes_live() -> None:
    """A stream starts with a comment, then the ``first`` events, then published events, and
    ends when the broker stops."""
    broker = InProcessBroker()

    async def scenario() -> list[bytes]:
        first = [LiveEvent("status", {"status": "dispatched"})]
        stream = sse_response(broker.subscribe("order:o1"), first=first).body_iterator
        got = [await anext(stream), await anext(stream)]  # type: ignore[call-overload]
        broker.publish("order:o1", LiveEvent("position", {"lat": 41.1}, id="9"))
        got.append(await anext(stream))  # type: ignore[call-overload]
        await broker.stop()
        got += [message async for message in stream]
        return got

    assert run(scenario()) == [
        b": connected\nretry: 3000\n\n",
        b'event: status\ndata: {"status":"dispatched"}\n\n',
        b'event: position\ndata: {"lat":41.1}\nid: 9\n\n',
    ]


def test_quiet_stream_sends_heartbeats() -> None:
    """With nothing to send for ``heartbeat_s``, the stream sends a comment."""
    broker = InProcessBroker()

    async def scenario() -> bytes:
        stream = sse_response(broker.subscribe("fleet:o1"), heartbeat_s=0.05).body_iterator
        await anext(stream)  # type: ignore[call-overload]
        return await anext(stream)  # type: ignore[call-overload, no-any-return]

    assert run(scenario()) == b": heartbeat\n\n"


def test_response_reads_first_after_subscribing() -> None:
    """An event published while ``first`` is being read still reaches the client, after it."""
    broker = InProcessBroker()

    async def snapshot() -> list[LiveEvent]:
        broker.publish("fleet:o1", LiveEvent("position", {"during": "snapshot"}))
        return [LiveEvent("snapshot", {})]

    async def scenario() -> list[bytes]:
        body = sse_response(broker.subscribe("fleet:o1"), first=snapshot, heartbeat_s=0.05)
        stream = body.body_iterator
        return [await anext(stream) for _ in range(4)]  # type: ignore[call-overload]

    got = run(scenario())
    assert got == [
        b": connected\nretry: 3000\n\n",
        b"event: snapshot\ndata: {}\n\n",
        b'event: position\ndata: {"during":"snapshot"}\n\n',
        b": heartbeat\n\n",
    ]


def _app(broker: InProcessBroker) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await broker.start()
        yield
        await broker.stop()

    app = FastAPI(lifespan=lifespan)

    @app.get("/response/{channel}", response_class=LiveStreamResponse)
    async def with_response(channel: str) -> LiveStreamResponse:
        return sse_response(broker.subscribe(channel))

    return app


def test_over_http_events_arrive_and_a_disconnect_unsubscribes() -> None:
    """Through FastAPI and uvicorn, a client reads the wire format; hanging up unsubscribes."""
    broker = InProcessBroker()

    async def scenario() -> tuple[bytes, bytes, int]:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(_app(broker), log_level="warning"))
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection(*sock.getsockname())
        writer.write(b"GET /response/fleet:o1 HTTP/1.1\r\nHost: test\r\n\r\n")
        head = await reader.readuntil(b": connected\nretry: 3000\n\n")
        await asyncio.to_thread(broker.publish, "fleet:o1", LiveEvent("position", {"n": 1}, "1"))
        event = await reader.readuntil(b"\n\n")
        writer.close()
        for _ in range(200):
            if broker.subscriber_count == 0:
                break
            await asyncio.sleep(0.01)
        left = broker.subscriber_count
        server.should_exit = True
        await serving
        return head, event, left

    head, event, left = run(scenario())
    assert b"content-type: text/event-stream" in head.lower()
    assert b"cache-control: no-cache" in head.lower()
    assert event.endswith(b'event: position\ndata: {"n":1}\nid: 1\n\n')
    assert left == 0

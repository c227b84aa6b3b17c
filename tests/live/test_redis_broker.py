"""The Redis broker: events cross broker instances and processes, and survive reconnects."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from lastmile.live import LiveEvent, RedisBroker, Subscription, build_broker
from tests.live.support import run

PEER = Path(__file__).with_name("peer.py")


async def _next(sub: Subscription, timeout: float = 5.0) -> LiveEvent:
    event = await sub.next(timeout)
    assert event is not None, "no event arrived"
    return event


@pytest.mark.redis
def test_event_reaches_another_broker_and_the_publisher_once(redis_url: str, prefix: str) -> None:
    """An event published by one broker arrives once at its own and at another's subscribers."""

    async def scenario() -> tuple[list[LiveEvent], list[LiveEvent]]:
        one, two = RedisBroker(redis_url, prefix), RedisBroker(redis_url, prefix)
        await one.start()
        await two.start()
        async with one.subscribe("fleet:o1") as mine, two.subscribe("fleet:o1") as theirs:
            one.publish("fleet:o1", LiveEvent("position", {"vehicle_id": "veh_1"}, id="1"))
            got = [await _next(mine)], [await _next(theirs)]
            # Exactly once: nothing more is waiting after a marker that comes later.
            one.publish("fleet:o1", LiveEvent("marker", {}))
            got[0].append(await _next(mine))
            got[1].append(await _next(theirs))
        await one.stop()
        await two.stop()
        return got

    mine, theirs = run(scenario())
    assert [e.kind for e in mine] == [e.kind for e in theirs] == ["position", "marker"]
    assert mine[0] == theirs[0] == LiveEvent("position", {"vehicle_id": "veh_1"}, id="1")


@pytest.mark.redis
def test_channels_and_prefixes_are_isolated(redis_url: str, prefix: str) -> None:
    """A subscriber sees neither other channels nor the same channel under another prefix."""

    async def scenario() -> list[str]:
        broker, stranger = RedisBroker(redis_url, prefix), RedisBroker(redis_url, prefix + "-x")
        await broker.start()
        async with broker.subscribe("order:a") as sub:
            stranger.publish("order:a", LiveEvent("status", {"from": "other prefix"}))
            broker.publish("order:b", LiveEvent("status", {"from": "other channel"}))
            broker.publish("order:a", LiveEvent("status", {"from": "mine"}))
            seen = [(await _next(sub)).data["from"]]
            await broker.stop()
            seen += [e.data["from"] async for e in sub]
        stranger.publish("order:a", LiveEvent("status", {}))  # no listener: publish only
        return seen

    assert run(scenario()) == ["mine"]


@pytest.mark.redis
def test_publish_many_arrives_in_order(redis_url: str, prefix: str) -> None:
    """A pipelined batch arrives complete and in order."""

    async def scenario() -> list[int]:
        broker = RedisBroker(redis_url, prefix)
        await broker.start()
        async with broker.subscribe("fleet:o1") as sub:
            batch = [("fleet:o1", LiveEvent("position", {"n": n})) for n in range(100)]
            await asyncio.to_thread(broker.publish_many, batch)
            seen = [(await _next(sub)).data["n"] for _ in range(100)]
        await broker.stop()
        return seen

    assert run(scenario()) == list(range(100))


@pytest.mark.redis
def test_another_process_publishes_to_us(redis_url: str, prefix: str) -> None:
    """An event published by a second OS process reaches this process's subscriber."""

    async def scenario() -> LiveEvent:
        broker = RedisBroker(redis_url, prefix)
        await broker.start()
        async with broker.subscribe("fleet:o1") as sub:
            event = LiveEvent("position", {"vehicle_id": "veh_7", "lat": 41.2})
            peer = await asyncio.create_subprocess_exec(
                sys.executable, str(PEER), "publish", redis_url, prefix, "fleet:o1",
                event.to_json(),
            )  # fmt: skip
            assert await peer.wait() == 0
            received = await _next(sub, timeout=10)
        await broker.stop()
        return received

    assert run(scenario(), timeout=30) == LiveEvent(
        "position", {"vehicle_id": "veh_7", "lat": 41.2}
    )


@pytest.mark.redis
def test_we_publish_to_another_process(redis_url: str, prefix: str) -> None:
    """An event published here reaches a subscriber in a second OS process."""
    peer = subprocess.Popen(
        [sys.executable, str(PEER), "listen", redis_url, prefix, "order:o1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert peer.stdout is not None
        assert peer.stdout.readline().strip() == "ready"
        RedisBroker(redis_url, prefix).publish("order:o1", LiveEvent("eta", {"minutes": 4}))
        out, _ = peer.communicate(timeout=20)
    finally:
        peer.kill()
    assert LiveEvent.from_json(out.strip()) == LiveEvent("eta", {"minutes": 4})


@pytest.mark.redis
def test_listener_reconnects_after_losing_its_connection(redis_url: str, prefix: str) -> None:
    """When Redis drops the pub/sub connection, the broker reconnects and delivers again."""

    async def scenario() -> tuple[bool, LiveEvent]:
        broker = RedisBroker(redis_url, prefix)
        await broker.start()
        admin = redis.Redis.from_url(redis_url)
        async with broker.subscribe("fleet:o1") as sub:
            ours = _listener_ids(admin, broker)
            assert len(ours) == 1
            admin.client_kill_filter(_id=ours[0])
            for _ in range(100):  # until it has noticed and subscribed again
                await asyncio.sleep(0.05)
                now = _listener_ids(admin, broker)
                if broker.ready and now and now != ours:
                    break
            else:
                pytest.fail("the listener did not reconnect")
            still_open = not sub.closed
            broker.publish("fleet:o1", LiveEvent("position", {"after": "reconnect"}))
            received = await _next(sub)
        await broker.stop()
        admin.close()
        return still_open, received

    still_open, received = run(scenario())
    assert still_open
    assert received.data == {"after": "reconnect"}


def _listener_ids(admin: redis.Redis, broker: RedisBroker) -> list[str]:
    return [c["id"] for c in admin.client_list() if c["name"] == broker.listener_name]


@pytest.mark.redis
def test_malformed_messages_are_skipped(redis_url: str, prefix: str) -> None:
    """A message that is not an event is ignored and the next good one still arrives."""

    async def scenario() -> LiveEvent:
        broker = RedisBroker(redis_url, prefix)
        await broker.start()
        admin = redis.Redis.from_url(redis_url)
        async with broker.subscribe("fleet:o1") as sub:
            admin.publish(f"{prefix}:live:fleet:o1", b"not json")
            broker.publish("fleet:o1", LiveEvent("position", {"ok": True}))
            received = await _next(sub)
        await broker.stop()
        admin.close()
        return received

    assert run(scenario()).data == {"ok": True}


@pytest.mark.redis
def test_build_broker_with_a_url_is_redis(redis_url: str) -> None:
    """``build_broker`` gives the Redis broker when a URL is configured."""
    assert isinstance(build_broker(redis_url), RedisBroker)


def test_unreachable_redis_degrades_without_raising(caplog: pytest.LogCaptureFixture) -> None:
    """With Redis down, start gives up waiting after its timeout and publish only logs."""

    async def scenario() -> tuple[bool, int]:
        broker = RedisBroker("redis://127.0.0.1:1/0", "lmtest", connect_timeout_s=0.3)
        await broker.start()
        broker.publish("fleet:o1", LiveEvent("position", {}))
        broker.publish_many([("fleet:o1", LiveEvent("position", {}))])
        ready = broker.ready
        await broker.stop()
        return ready, broker.publish_errors

    with caplog.at_level(logging.WARNING, logger="lastmile.live"):
        assert run(scenario()) == (False, 2)
    assert "not ready" in caplog.text
    assert "not published" in caplog.text

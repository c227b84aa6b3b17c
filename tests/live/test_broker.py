"""The in-process broker: delivery across threads, channel isolation, bounded queues."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from lastmile.live import InProcessBroker, LiveEvent, Subscription
from tests.live.support import run


def test_event_json_round_trip() -> None:
    """An event read back from its JSON equals the original, payload and id included."""
    event = LiveEvent("position", {"vehicle_id": "veh_1", "lat": 41.1, "tags": ["a"]}, id="7")
    assert LiveEvent.from_json(event.to_json()) == event
    assert LiveEvent.from_json(event.to_json().encode()) == event


@pytest.mark.parametrize("raw", ["[]", '{"kind": 1, "data": {}}', '{"kind": "x", "data": 3}'])
def test_event_from_json_refuses_other_documents(raw: str) -> None:
    """Anything but an event document is refused with ValueError."""
    with pytest.raises(ValueError, match="not a live event"):
        LiveEvent.from_json(raw)


def test_publish_from_a_thread_reaches_an_async_subscriber() -> None:
    """An event published from a worker thread arrives at a subscriber on the event loop."""
    broker = InProcessBroker()

    async def scenario() -> LiveEvent:
        async with broker.subscribe("fleet:org_1") as sub:
            event = LiveEvent("position", {"vehicle_id": "veh_1"})
            threading.Thread(target=broker.publish, args=("fleet:org_1", event)).start()
            return await anext(sub)

    assert run(scenario()).data == {"vehicle_id": "veh_1"}


def test_channels_are_isolated() -> None:
    """A subscriber sees the events of its own channels only."""
    broker = InProcessBroker()

    async def scenario() -> tuple[list[str], list[str]]:
        async with (
            broker.subscribe("order:a") as only_a,
            broker.subscribe("order:a", "order:b") as both,
        ):
            for channel in ("order:a", "order:b", "order:c", "order:b"):
                broker.publish(channel, LiveEvent("status", {"on": channel}))
            await broker.stop()
            return [e.data["on"] async for e in only_a], [e.data["on"] async for e in both]

    seen_a, seen_both = run(scenario())
    assert seen_a == ["order:a"]
    assert seen_both == ["order:a", "order:b", "order:b"]


def test_publish_many_keeps_order() -> None:
    """A batch arrives in the order it was published, each event on its own channel."""
    broker = InProcessBroker()

    async def scenario() -> list[int]:
        async with broker.subscribe("fleet:1") as sub:
            await asyncio.to_thread(
                broker.publish_many,
                [("fleet:1", LiveEvent("position", {"n": n})) for n in range(50)],
            )
            return [(await anext(sub)).data["n"] for _ in range(50)]

    assert run(scenario()) == list(range(50))


def test_slow_subscriber_drops_oldest_without_blocking_others() -> None:
    """A subscriber that does not read keeps only its newest events; the others get all."""
    broker = InProcessBroker(queue_size=4)

    async def scenario() -> tuple[list[int], int, list[int], float]:
        async with broker.subscribe("fleet:1") as slow, broker.subscribe("fleet:1") as fast:
            received: list[int] = []
            started = time.perf_counter()
            for n in range(10):
                broker.publish("fleet:1", LiveEvent("position", {"n": n}))
                received.append((await anext(fast)).data["n"])
            publishing_s = time.perf_counter() - started
            await broker.stop()
            return [e.data["n"] async for e in slow], slow.dropped, received, publishing_s

    kept, dropped, fast_received, publishing_s = run(scenario())
    assert kept == [6, 7, 8, 9]
    assert dropped == 6
    assert fast_received == list(range(10))
    assert publishing_s < 1.0


def test_leaving_unsubscribes() -> None:
    """After its ``async with`` ends, a subscription is gone from the broker."""
    broker = InProcessBroker()

    async def scenario() -> tuple[int, int, bool]:
        async with broker.subscribe("fleet:1", "order:1") as sub:
            inside = broker.subscriber_count
        broker.publish("fleet:1", LiveEvent("position", {}))
        return inside, broker.subscriber_count, sub.closed

    assert run(scenario()) == (1, 0, True)


def test_next_returns_none_when_quiet() -> None:
    """``next(timeout)`` gives None after a quiet period while the subscription stays open."""
    broker = InProcessBroker()

    async def scenario() -> tuple[LiveEvent | None, bool]:
        async with broker.subscribe("fleet:1") as sub:
            return await sub.next(0.05), sub.closed

    assert run(scenario()) == (None, False)


def test_stop_ends_every_subscription() -> None:
    """Stopping the broker ends the iteration of subscribers waiting for events."""
    broker = InProcessBroker()

    async def scenario() -> list[LiveEvent]:
        async with broker.subscribe("fleet:1") as sub:
            waiting = asyncio.create_task(asyncio.wait_for(_drain(sub), 5))
            await asyncio.sleep(0.01)
            await broker.stop()
            return await waiting

    assert run(scenario()) == []


def test_subscribers_on_two_event_loops_both_receive() -> None:
    """One publish reaches subscribers on different event loops (threads) alike."""
    broker = InProcessBroker()
    subscribed = threading.Barrier(3, timeout=5)
    results: list[object] = []

    async def listen() -> None:
        async with broker.subscribe("fleet:1") as sub:
            await asyncio.to_thread(subscribed.wait)
            results.append((await asyncio.wait_for(anext(sub), 5)).data)

    threads = [threading.Thread(target=asyncio.run, args=(listen(),)) for _ in range(2)]
    for thread in threads:
        thread.start()
    subscribed.wait()
    broker.publish("fleet:1", LiveEvent("position", {"n": 1}))
    for thread in threads:
        thread.join(5)
    assert results == [{"n": 1}, {"n": 1}]


def test_publishing_without_subscribers_is_harmless() -> None:
    """Publishing to a channel nobody listens to, outside any event loop, does nothing."""
    broker = InProcessBroker()
    broker.publish("fleet:nobody", LiveEvent("position", {}))
    broker.publish_many([])


async def _drain(sub: Subscription) -> list[LiveEvent]:
    return [event async for event in sub]

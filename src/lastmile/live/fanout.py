"""Local fan-out: the subscriptions of one process and delivery to them from any thread.

Both brokers end here: the in-process broker hands every publish to ``Fanout.dispatch``, the
Redis broker hands it every message its one pub/sub connection receives. Each subscription
lives on the event loop that entered it; delivery to a loop from another thread goes through
``loop.call_soon_threadsafe``, once per loop and batch, never once per subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from types import TracebackType

from lastmile.live.events import LiveEvent

log = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 1024
"""Events one subscriber may fall behind before the oldest are dropped (a few minutes of a
busy fleet channel; a client that far behind is better served by the newest positions)."""

_Route = dict[asyncio.AbstractEventLoop, tuple["Subscription", ...]]


class Subscription:
    """Events of some channels for one consumer, in publish order per publisher.

    Use as ``async with broker.subscribe("fleet:org_1") as sub: async for event in sub: ...``.
    Events published before ``__aenter__`` are not seen. The queue is bounded: when the
    consumer falls ``maxsize`` events behind, the oldest event is dropped and counted in
    ``dropped``, so a slow consumer never blocks publishers or other subscribers. Iteration
    ends when the broker stops.
    """

    def __init__(self, fanout: Fanout, channels: Sequence[str], maxsize: int) -> None:
        if not channels:
            raise ValueError("subscribe to at least one channel")
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.channels = tuple(dict.fromkeys(channels))
        self.maxsize = maxsize
        self.dropped = 0
        self._fanout = fanout
        self._queue: deque[LiveEvent] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def closed(self) -> bool:
        """True once the subscription has ended (left, or its broker stopped)."""
        return self._closed

    async def __aenter__(self) -> Subscription:
        if self.loop is not None:
            raise RuntimeError("a subscription can be entered once")
        self.loop = asyncio.get_running_loop()
        self._fanout.add(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._fanout.remove(self)
        self.close()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> LiveEvent:
        event = await self.next(None)
        if event is None:
            raise StopAsyncIteration
        return event

    async def next(self, timeout: float | None) -> LiveEvent | None:
        """The next event, or ``None`` after ``timeout`` seconds or once ``closed``.

        A ``None`` with ``closed`` still False is a quiet period: time for a heartbeat.
        """
        if not self._queue and not self._closed:
            waiter = asyncio.get_running_loop().create_future()
            self._waiter = waiter
            try:
                async with asyncio.timeout(timeout):
                    await waiter
            except TimeoutError:
                pass
            finally:
                self._waiter = None
        return self._queue.popleft() if self._queue else None

    def close(self) -> None:
        """End the subscription: queued events can still be read, then iteration stops.

        Call on the subscription's own event loop.
        """
        self._closed = True
        self._wake()

    def deliver(self, event: LiveEvent) -> None:
        """Queue one event, dropping the oldest when full. Call on the subscription's loop."""
        if self._closed:
            return
        if len(self._queue) >= self.maxsize:
            self._queue.popleft()
            if not self.dropped:
                channels = ",".join(self.channels)
                log.warning("live subscriber on %s is too slow; dropping oldest events", channels)
            self.dropped += 1
        self._queue.append(event)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class Fanout:
    """Which subscriptions listen on which channel, and delivery to them from any thread.

    Each channel's entry is copy-on-write: subscribing and leaving replace it under a lock;
    publishing, from any thread, looks it up without locking (one ``dict.get``, atomic in
    CPython) and iterates an entry that is never changed once stored.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[str, _Route] = {}

    def add(self, sub: Subscription) -> None:
        assert sub.loop is not None
        with self._lock:
            for channel in sub.channels:
                route = dict(self._routes.get(channel, {}))
                route[sub.loop] = (*route.get(sub.loop, ()), sub)
                self._routes[channel] = route

    def remove(self, sub: Subscription) -> None:
        assert sub.loop is not None
        with self._lock:
            for channel in sub.channels:
                route = dict(self._routes.get(channel, {}))
                left = tuple(s for s in route.get(sub.loop, ()) if s is not sub)
                if left:
                    route[sub.loop] = left
                else:
                    route.pop(sub.loop, None)
                if route:
                    self._routes[channel] = route
                else:
                    self._routes.pop(channel, None)

    def has_subscribers(self, channel: str) -> bool:
        """Whether anyone in this process listens on ``channel`` (lets callers skip work)."""
        return channel in self._routes

    def subscriber_count(self) -> int:
        """Subscriptions currently entered, over all channels and loops."""
        with self._lock:
            routes = list(self._routes.values())
        return len({s for route in routes for subs in route.values() for s in subs})

    def dispatch(self, items: Iterable[tuple[str, LiveEvent]]) -> None:
        """Deliver each ``(channel, event)`` to that channel's subscribers; any thread."""
        batches: dict[asyncio.AbstractEventLoop, list[tuple[tuple[Subscription, ...], LiveEvent]]]
        batches = {}
        routes = self._routes
        for channel, event in items:
            for loop, subs in routes.get(channel, {}).items():
                batches.setdefault(loop, []).append((subs, event))
        if not batches:
            return
        current = _running_loop()
        for loop, batch in batches.items():
            if loop is current:
                _deliver(batch)
                continue
            try:
                loop.call_soon_threadsafe(_deliver, batch)
            except RuntimeError:  # that loop has closed without its subscribers leaving
                log.debug("dropping live events for a closed event loop")

    def close_all(self) -> None:
        """End every subscription (the broker is stopping); any thread."""
        with self._lock:
            routes, self._routes = self._routes, {}
        current = _running_loop()
        ending = {sub for route in routes.values() for subs in route.values() for sub in subs}
        for sub in ending:
            assert sub.loop is not None
            if sub.loop is current:
                sub.close()
                continue
            with contextlib.suppress(RuntimeError):  # that loop has closed already
                sub.loop.call_soon_threadsafe(sub.close)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _deliver(batch: list[tuple[tuple[Subscription, ...], LiveEvent]]) -> None:
    for subs, event in batch:
        for sub in subs:
            sub.deliver(event)

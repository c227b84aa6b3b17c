"""The pub/sub interface behind live tracking, its in-process default and ``build_broker``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from lastmile.live.events import LiveEvent
from lastmile.live.fanout import DEFAULT_QUEUE_SIZE, Fanout, Subscription
from lastmile.live.redis_broker import RedisBroker


class Broker(Protocol):
    """Publish events to named channels; subscribe to channels from async code.

    ``publish`` is synchronous, thread-safe and quick, so sync route handlers (in the
    threadpool) and background threads call it directly. ``start``/``stop`` belong in the app
    lifespan; ``stop`` ends every open subscription so streaming responses finish.
    """

    def publish(self, channel: str, event: LiveEvent) -> None: ...

    def publish_many(self, items: Sequence[tuple[str, LiveEvent]]) -> None: ...

    def subscribe(self, *channels: str) -> Subscription: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class InProcessBroker:
    """Events reach the subscribers of this process only (one server process, tests).

    Parameters
    ----------
    queue_size
        Events a subscriber may fall behind before its oldest are dropped.
    """

    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self._fanout = Fanout()

    def publish(self, channel: str, event: LiveEvent) -> None:
        self._fanout.dispatch(((channel, event),))

    def publish_many(self, items: Sequence[tuple[str, LiveEvent]]) -> None:
        self._fanout.dispatch(items)

    def subscribe(self, *channels: str) -> Subscription:
        return Subscription(self._fanout, channels, self.queue_size)

    @property
    def subscriber_count(self) -> int:
        return self._fanout.subscriber_count()

    async def start(self) -> None:
        """Nothing to connect: subscriptions bind to the loop that enters them."""

    async def stop(self) -> None:
        self._fanout.close_all()


def build_broker(
    redis_url: str | None, *, prefix: str = "lastmile", queue_size: int = DEFAULT_QUEUE_SIZE
) -> Broker:
    """The Redis broker when ``redis_url`` is set (several server processes), else in-process."""
    if redis_url:
        return RedisBroker(redis_url, prefix, queue_size=queue_size)
    return InProcessBroker(queue_size)

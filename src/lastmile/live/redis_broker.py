"""``RedisBroker``: live events shared by several server processes through Redis pub/sub."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from urllib.parse import urlsplit

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from lastmile.live.events import LiveEvent
from lastmile.live.fanout import DEFAULT_QUEUE_SIZE, Fanout, Subscription

log = logging.getLogger(__name__)

PING_EVERY_S = 10.0
"""A quiet pub/sub connection is pinged this often; no answer by the next ping = dead."""

BACKOFF_S = (0.1, 5.0)
"""First and longest wait between reconnection attempts (doubling, with jitter)."""


class RedisBroker:
    """Publish with one ``PUBLISH`` per event; receive on ONE pub/sub connection per process.

    That connection pattern-subscribes to every live channel under ``prefix`` and fans each
    message out locally, so a thousand SSE clients share it. A message for a channel nobody in
    this process listens to is dropped before it is decoded. Publishing goes only through
    Redis, so every process, the publisher's included, sees each event exactly once.

    Live events are best effort: a publish while Redis is unreachable is logged and dropped
    (the fix itself is already stored), and events published while the listener reconnects
    are missed. The listener retries forever with capped exponential backoff.

    Parameters
    ----------
    url
        ``redis://`` URL.
    prefix
        Namespace of the pub/sub channels: channel ``fleet:org_1`` is ``{prefix}:live:fleet:org_1``.
    queue_size
        Events a subscriber may fall behind before its oldest are dropped.
    connect_timeout_s
        How long ``start`` waits for the first subscription before going on without it.
    """

    def __init__(
        self,
        url: str,
        prefix: str = "lastmile",
        *,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self._url = url
        parts = urlsplit(url)
        self._where = f"{parts.hostname}:{parts.port or 6379}"  # for logs: never the password
        self.queue_size = queue_size
        self.connect_timeout_s = connect_timeout_s
        self.publish_errors = 0
        self._channel_prefix = f"{prefix}:live:"
        self.listener_name = f"{prefix}-live-listener"  # shows in CLIENT LIST
        self._fanout = Fanout()
        # Short timeouts and one retry: a stale pooled connection (Redis restarted) is retried
        # on a fresh one, while a down Redis costs a request at most a couple of seconds.
        self._client = redis.Redis.from_url(
            url, socket_timeout=2.0, socket_connect_timeout=2.0, retry=Retry(NoBackoff(), 1)
        )
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    @property
    def ready(self) -> bool:
        """Whether the pub/sub connection is subscribed right now (for health checks)."""
        return self._ready.is_set()

    @property
    def subscriber_count(self) -> int:
        return self._fanout.subscriber_count()

    def publish(self, channel: str, event: LiveEvent) -> None:
        """One ``PUBLISH`` (a round trip to Redis, well under a millisecond nearby)."""
        try:
            self._client.publish(self._channel_prefix + channel, event.to_json())
        except RedisError as exc:
            self._publish_failed(exc)

    def publish_many(self, items: Sequence[tuple[str, LiveEvent]]) -> None:
        """Every ``PUBLISH`` of the batch in one pipelined round trip."""
        if not items:
            return
        pipe = self._client.pipeline(transaction=False)
        for channel, event in items:
            pipe.publish(self._channel_prefix + channel, event.to_json())
        try:
            pipe.execute()
        except RedisError as exc:
            self._publish_failed(exc)

    def subscribe(self, *channels: str) -> Subscription:
        if self._listener is None:
            raise RuntimeError("RedisBroker.start() has not been called (app lifespan)")
        return Subscription(self._fanout, channels, self.queue_size)

    async def start(self) -> None:
        """Start the listener and wait (up to ``connect_timeout_s``) until it is subscribed."""
        if self._listener is not None:
            return
        self._ready = asyncio.Event()
        self._listener = asyncio.create_task(self._listen(), name="lastmile-live-redis")
        try:
            await asyncio.wait_for(self._ready.wait(), self.connect_timeout_s)
        except TimeoutError:
            log.error("Redis pub/sub at %s not ready; live events wait for it", self._where)

    async def stop(self) -> None:
        """Stop listening, end every subscription and close the connections."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        self._fanout.close_all()
        self._client.close()

    def _publish_failed(self, exc: RedisError) -> None:
        self.publish_errors += 1
        log.warning("live event not published (Redis: %s)", exc)

    async def _listen(self) -> None:
        backoff = BACKOFF_S[0]
        while True:
            try:
                await self._listen_once()
            except Exception as exc:  # the listener outlives any one failure
                if self._ready.is_set():  # it had worked: the first retry comes quickly
                    self._ready.clear()
                    backoff = BACKOFF_S[0]
                unexpected = not isinstance(exc, RedisError | OSError)
                why = f"Redis pub/sub at {self._where} unavailable ({exc!r})"
                log.warning("%s; retrying in %.1f s", why, backoff, exc_info=unexpected)
            await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
            backoff = min(backoff * 2, BACKOFF_S[1])

    async def _listen_once(self) -> None:
        client = aioredis.Redis.from_url(
            self._url,
            socket_connect_timeout=2.0,
            socket_keepalive=True,
            retry=AsyncRetry(NoBackoff(), 0),
            client_name=self.listener_name,
        )
        pubsub = client.pubsub()
        try:
            await pubsub.psubscribe(self._channel_prefix + "*")
            awaiting_pong = False
            while True:
                message = await pubsub.get_message(timeout=PING_EVERY_S)
                if message is None:
                    if awaiting_pong:
                        raise ConnectionError("no answer to PING")
                    await pubsub.ping()
                    awaiting_pong = True
                    continue
                awaiting_pong = False
                if message["type"] == "pmessage":
                    self._received(message["channel"], message["data"])
                elif message["type"] == "psubscribe" and not self._ready.is_set():
                    log.info("Redis pub/sub subscribed at %s", self._where)
                    self._ready.set()
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py
                await client.aclose()

    def _received(self, raw_channel: bytes, raw: bytes) -> None:
        channel = raw_channel.decode()[len(self._channel_prefix) :]
        if not self._fanout.has_subscribers(channel):
            return
        try:
            event = LiveEvent.from_json(raw)
        except ValueError:
            log.warning("ignoring a malformed live event on %s", channel)
            return
        self._fanout.dispatch(((channel, event),))

"""Live tracking plumbing: pub/sub between server processes, SSE streams, latest positions."""

from lastmile.live.broker import Broker, InProcessBroker, build_broker
from lastmile.live.events import LiveEvent
from lastmile.live.fanout import DEFAULT_QUEUE_SIZE, Subscription
from lastmile.live.latest import (
    InMemoryLatestPositions,
    LatestPositions,
    RedisLatestPositions,
    VehiclePosition,
    build_latest_positions,
)
from lastmile.live.redis_broker import RedisBroker
from lastmile.live.sse import LiveStreamResponse, sse_response

__all__ = [
    "DEFAULT_QUEUE_SIZE",
    "Broker",
    "InMemoryLatestPositions",
    "InProcessBroker",
    "LatestPositions",
    "LiveEvent",
    "LiveStreamResponse",
    "RedisBroker",
    "RedisLatestPositions",
    "Subscription",
    "VehiclePosition",
    "build_broker",
    "build_latest_positions",
    "sse_response",
]

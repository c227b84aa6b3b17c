"""The hot store of each vehicle's latest accepted fix: in memory, or in Redis when shared."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, Protocol

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


@dataclass(frozen=True, slots=True)
class VehiclePosition:
    """One accepted GPS fix of a vehicle; ``t`` (when measured) orders fixes, UNIX seconds."""

    vehicle_id: str
    t: float
    lat: float
    lon: float
    speed_mps: float | None
    heading_deg: float | None
    accuracy_m: float | None
    battery: float | None
    driver_id: str | None
    received_at: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> VehiclePosition:
        doc: dict[str, Any] = json.loads(raw)
        return cls(**{name: doc[name] for name in _FIELDS if name in doc})


_FIELDS = tuple(f.name for f in fields(VehiclePosition))


class LatestPositions(Protocol):
    """Latest fix per vehicle, per organisation; every method is thread-safe and sync.

    ``put_many`` keeps a position only if it is newer (larger ``t``) than the one stored, so
    fixes arriving out of order or twice never move a vehicle back. It returns the vehicle ids
    whose position it replaced: the ones worth pushing to live views.
    """

    def get_many(
        self, organization_id: str, vehicle_ids: Sequence[str]
    ) -> dict[str, VehiclePosition]: ...

    def put_many(
        self, organization_id: str, positions: Mapping[str, VehiclePosition]
    ) -> set[str]: ...

    def all(self, organization_id: str) -> dict[str, VehiclePosition]: ...


class InMemoryLatestPositions:
    """This process's own positions (one server process, tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_org: dict[str, dict[str, VehiclePosition]] = {}

    def get_many(
        self, organization_id: str, vehicle_ids: Sequence[str]
    ) -> dict[str, VehiclePosition]:
        with self._lock:
            stored = self._by_org.get(organization_id, {})
            return {v: stored[v] for v in vehicle_ids if v in stored}

    def put_many(self, organization_id: str, positions: Mapping[str, VehiclePosition]) -> set[str]:
        replaced: set[str] = set()
        with self._lock:
            stored = self._by_org.setdefault(organization_id, {})
            for vehicle_id, position in positions.items():
                current = stored.get(vehicle_id)
                if current is None or position.t > current.t:
                    stored[vehicle_id] = position
                    replaced.add(vehicle_id)
        return replaced

    def all(self, organization_id: str) -> dict[str, VehiclePosition]:
        with self._lock:
            return dict(self._by_org.get(organization_id, {}))


# KEYS[1]: the organisation's hash; ARGV: vehicle id, t, JSON, vehicle id, t, JSON, ...
# Compare and set for the whole batch in one atomic round trip; returns the replaced ids.
_PUT_NEWER = """
local replaced = {}
for i = 1, #ARGV, 3 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if (not current) or tonumber(ARGV[i + 1]) > cjson.decode(current)['t'] then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
    replaced[#replaced + 1] = ARGV[i]
  end
end
return replaced
"""


class RedisLatestPositions:
    """Positions shared by every server process: one Redis hash per organisation.

    The hash ``{prefix}:latest:{organization_id}`` maps vehicle id to the position as JSON.
    """

    def __init__(self, url: str, prefix: str = "lastmile") -> None:
        self._prefix = f"{prefix}:latest:"
        self._client = redis.Redis.from_url(
            url, socket_timeout=2.0, socket_connect_timeout=2.0, retry=Retry(NoBackoff(), 1)
        )
        self._put_newer = self._client.register_script(_PUT_NEWER)

    def get_many(
        self, organization_id: str, vehicle_ids: Sequence[str]
    ) -> dict[str, VehiclePosition]:
        if not vehicle_ids:
            return {}
        raw = self._client.hmget(self._prefix + organization_id, list(vehicle_ids))
        return {v: VehiclePosition.from_json(r) for v, r in zip(vehicle_ids, raw, strict=True) if r}

    def put_many(self, organization_id: str, positions: Mapping[str, VehiclePosition]) -> set[str]:
        if not positions:
            return set()
        args: list[str | float] = []
        for vehicle_id, position in positions.items():
            args += [vehicle_id, repr(position.t), position.to_json()]
        replaced = self._put_newer(keys=[self._prefix + organization_id], args=args)
        return {_text(r) for r in replaced}

    def all(self, organization_id: str) -> dict[str, VehiclePosition]:
        raw = self._client.hgetall(self._prefix + organization_id)
        return {_text(v): VehiclePosition.from_json(r) for v, r in raw.items()}

    def close(self) -> None:
        self._client.close()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def build_latest_positions(redis_url: str | None, *, prefix: str = "lastmile") -> LatestPositions:
    """Redis-backed when ``redis_url`` is set (several server processes), else in memory."""
    if redis_url:
        return RedisLatestPositions(redis_url, prefix)
    return InMemoryLatestPositions()

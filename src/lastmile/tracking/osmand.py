"""The OsmAnd / Traccar Client HTTP protocol: one fix per request, keyed by device identifier.

Query or form parameters (OsmAnd, Traccar Client before 9): ``id`` or ``deviceid``, ``lat``,
``lon`` (or ``location=lat,lon``), ``timestamp`` (epoch seconds or milliseconds, ISO 8601, or
``yyyy-MM-dd HH:mm:ss`` in UTC), ``speed`` (knots, as Traccar reads it), ``bearing`` or
``heading`` (degrees), ``altitude``, ``accuracy`` (m), ``hdop``, ``batt`` (percent).
JSON body (Traccar Client 9+): ``{"device_id", "location": {"timestamp", "coords": {"latitude",
"longitude", "accuracy", "speed" (m/s), "heading"}, "battery": {"level" (0-1)}}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lastmile.tracking.fixes import IncomingFix

KNOT_MPS = 1852 / 3600


class ProtocolError(ValueError):
    """The request is not a readable OsmAnd report; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class OsmAndReport:
    identifier: str
    fix: IncomingFix


def _number(params: Mapping[str, str], *names: str) -> float | None:
    for name in names:
        raw = params.get(name)
        if raw is None or raw == "":
            continue
        try:
            return float(raw)
        except ValueError:
            raise ProtocolError(name, f"{name}={raw!r} is not a number") from None
    return None


def parse_timestamp(raw: str | None, received: datetime) -> datetime:
    """Read the protocol's timestamp forms; a report without one is taken as 'now'."""
    if raw is None or raw == "":
        return received
    try:
        value = float(raw)
    except ValueError:
        text = raw.strip().replace(" ", "T", 1)
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ProtocolError("timestamp", f"timestamp={raw!r} is not a time") from None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    # Seconds and milliseconds since the epoch are both in use; ms values are 1000x larger.
    seconds = value / 1000 if value > 1e11 else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise ProtocolError("timestamp", f"timestamp={raw!r} is out of range") from None


def parse_query(params: Mapping[str, str], received: datetime) -> OsmAndReport:
    """A report from query or form parameters."""
    identifier = params.get("id") or params.get("deviceid")
    if not identifier:
        raise ProtocolError("id", "the device identifier (id or deviceid) is missing")
    lat, lon = _number(params, "lat"), _number(params, "lon")
    if (lat is None or lon is None) and params.get("location"):
        parts = params["location"].split(",")
        if len(parts) != 2:
            raise ProtocolError("location", "location must be 'lat,lon'")
        lat, lon = _number({"lat": parts[0]}, "lat"), _number({"lon": parts[1]}, "lon")
    if lat is None or lon is None:
        raise ProtocolError("lat" if lat is None else "lon", "lat and lon are required")
    speed_kn = _number(params, "speed")
    battery = _number(params, "batt", "battery")
    fix = IncomingFix(
        t=parse_timestamp(params.get("timestamp"), received),
        lat=lat,
        lon=lon,
        accuracy_m=_number(params, "accuracy"),
        speed_mps=None if speed_kn is None else speed_kn * KNOT_MPS,
        heading_deg=_number(params, "bearing", "heading"),
        battery=None if battery is None else battery / 100,
    )
    return OsmAndReport(identifier=identifier, fix=fix)


def parse_json(body: Mapping[str, Any], received: datetime) -> OsmAndReport:
    """A report in Traccar Client's JSON form."""
    identifier = body.get("device_id")
    location = body.get("location")
    if not isinstance(identifier, str | int) or not str(identifier):
        raise ProtocolError("device_id", "device_id is missing")
    if not isinstance(location, Mapping) or not isinstance(location.get("coords"), Mapping):
        raise ProtocolError("location.coords", "location.coords is missing")
    coords = location["coords"]

    def number(source: Mapping[str, Any], key: str, where: str) -> float | None:
        value = source.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProtocolError(where, f"{where} is not a number")
        return float(value)

    lat = number(coords, "latitude", "location.coords.latitude")
    lon = number(coords, "longitude", "location.coords.longitude")
    if lat is None or lon is None:
        raise ProtocolError("location.coords", "latitude and longitude are required")
    battery = location.get("battery")
    speed = number(coords, "speed", "location.coords.speed")
    accuracy = number(coords, "accuracy", "location.coords.accuracy")
    fix = IncomingFix(
        t=parse_timestamp(str(location.get("timestamp") or ""), received),
        lat=lat,
        lon=lon,
        # The SDK reports -1 for "unknown" speed and accuracy.
        accuracy_m=accuracy if accuracy is not None and accuracy >= 0 else None,
        speed_mps=speed if speed is not None and speed >= 0 else None,
        heading_deg=number(coords, "heading", "location.coords.heading"),
        battery=(
            number(battery, "level", "location.battery.level")
            if isinstance(battery, Mapping)
            else None
        ),
    )
    return OsmAndReport(identifier=str(identifier), fix=fix)

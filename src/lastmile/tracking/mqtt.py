"""Vehicle telematics over MQTT: ``lastmile/<org>/vehicles/<vehicle>/position`` (JSON).

The payload is one fix ``{"t", "lat", "lon", "accuracy", "speed", "heading", "battery"}``
(``t`` as ISO 8601 or epoch seconds/milliseconds; speed in m/s; battery 0-1), a list of such
fixes, or ``{"fixes": [...]}``. The broker's ACL is the trust boundary (a device may only
publish under its own topic); we still check that the vehicle belongs to the organisation.
Several server processes share the work through an MQTT shared subscription.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from lastmile.auth.principal import Access, Principal
from lastmile.db.engine import Database
from lastmile.fleet.repository import VehicleRepository
from lastmile.kit.clock import utcnow
from lastmile.kit.ids import new_id
from lastmile.tracking.fixes import IncomingFix
from lastmile.tracking.ingest import IngestResult, PositionIngest
from lastmile.tracking.metrics import count_fixes
from lastmile.tracking.models import FixSource
from lastmile.tracking.osmand import ProtocolError, parse_timestamp

log = logging.getLogger(__name__)

TOPIC_ROOT = "lastmile"
TOPIC_FILTER = f"{TOPIC_ROOT}/+/vehicles/+/position"


class PayloadError(ValueError):
    pass


def parse_topic(topic: str) -> tuple[str, str]:
    """(organization_id, vehicle_id) from a position topic."""
    parts = topic.split("/")
    if (
        len(parts) != 5
        or parts[0] != TOPIC_ROOT
        or parts[2] != "vehicles"
        or parts[4] != "position"
    ):
        raise PayloadError(f"not a position topic: {topic!r}")
    return parts[1], parts[3]


def _number(fix: Mapping[str, Any], key: str) -> float | None:
    value = fix.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(f"{key} is not a number")
    return float(value)


def parse_payload(payload: bytes) -> list[IncomingFix]:
    """The fixes in an MQTT message; PayloadError when it is not readable at all."""
    try:
        # JSON has no NaN, but Python's parser accepts it: such fixes are refused later.
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"not JSON: {exc}") from None
    items = doc.get("fixes") if isinstance(doc, dict) and "fixes" in doc else doc
    items = items if isinstance(items, list) else [items]
    now = utcnow()
    fixes: list[IncomingFix] = []
    for item in items:
        if not isinstance(item, dict):
            raise PayloadError("each fix must be an object")
        lat, lon = _number(item, "lat"), _number(item, "lon")
        if lat is None or lon is None:
            raise PayloadError("lat and lon are required")
        raw_t = item.get("t", item.get("timestamp"))
        if raw_t is None:
            raise PayloadError("t (the time of the fix) is required")
        try:
            t = parse_timestamp(str(raw_t), now)
        except ProtocolError as exc:
            raise PayloadError(str(exc)) from None
        fixes.append(
            IncomingFix(
                t=t, lat=lat, lon=lon, accuracy_m=_number(item, "accuracy"),
                speed_mps=_number(item, "speed"), heading_deg=_number(item, "heading"),
                battery=_number(item, "battery"),
            )
        )  # fmt: skip
    return fixes


class MqttPositionSubscriber:
    """Subscribes to vehicle positions and hands them to the ingest."""

    def __init__(
        self, url: str, db: Database, ingest: PositionIngest, *, group: str = "lastmile-ingest"
    ) -> None:
        self.subscription = f"$share/{group}/{TOPIC_FILTER}"
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 1883
        self.db = db
        self.ingest = ingest
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=new_id("lastmile"), clean_session=True
        )
        if parts.username:
            self.client.username_pw_set(parts.username, parts.password)
        self._subscribed = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)

    def start(self) -> None:
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("MQTT connection refused: %s", reason)
            return
        client.subscribe(self.subscription, qos=1)

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any
    ) -> None:
        self._subscribed.set()

    def wait_subscribed(self, timeout: float) -> bool:
        return self._subscribed.wait(timeout)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            self.handle(message.topic, bytes(message.payload))
        except Exception:  # a poison message must not kill the network loop
            log.exception("MQTT position message on %s failed", message.topic)

    def handle(self, topic: str, payload: bytes) -> IngestResult | None:
        """Ingest one message; unreadable ones are counted and logged, never stored."""
        try:
            organization_id, vehicle_id = parse_topic(topic)
            fixes = parse_payload(payload)
        except PayloadError as exc:
            count_fixes(FixSource.mqtt.value, "unreadable")
            log.warning("MQTT message on %s refused: %s", topic, exc)
            return None
        with self.db.unit_of_work() as session:
            scope = Principal(organization_id, Access.admin, system="mqtt")
            if VehicleRepository(session, scope).get(vehicle_id) is None:
                count_fixes(FixSource.mqtt.value, "unknown_vehicle", len(fixes))
                log.warning("MQTT fixes for unknown vehicle %s/%s", organization_id, vehicle_id)
                return None
            result = self.ingest.record(session, organization_id, vehicle_id, fixes, FixSource.mqtt)
        for refused in result.refused:
            log.info("MQTT fix refused for %s: %s (%s)", vehicle_id, refused.reason, refused.detail)
        return result

"""Telematics over MQTT, published to the real broker."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lastmile.app import create_app
from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.kit.ids import new_id
from lastmile.tracking.models import PositionFix
from lastmile.tracking.mqtt import PayloadError, parse_payload, parse_topic
from tests.conftest import service_url
from tests.factories import Tenant, vehicle_payload


@pytest.fixture
def mqtt_client(tmp_path: Path, database: Database) -> Iterator[TestClient]:
    url = service_url("LASTMILE_TEST_MQTT_URL")
    settings = Settings(
        environment="test", data_dir=tmp_path, auto_migrate=False, mqtt_url=url,
        mqtt_share_group=new_id("g"),
    )  # fmt: skip
    app = create_app(settings, database=database)
    with TestClient(app) as client:
        subscriber = app.state.tracking.mqtt
        assert subscriber is not None
        if not subscriber.wait_subscribed(10):
            pytest.fail(f"could not subscribe on the MQTT broker at {url}")
        yield client


def publish(topic: str, payload: bytes) -> None:
    url = service_url("LASTMILE_TEST_MQTT_URL")
    host, port = url.removeprefix("mqtt://").split(":")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect(host, int(port))
    client.loop_start()
    client.publish(topic, payload, qos=1).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


def wait_for_rows(db: Database, vehicle_id: str, n: int, timeout: float = 10) -> list[PositionFix]:
    deadline = time.monotonic() + timeout
    while True:
        with db.unit_of_work(readonly=True) as s:
            rows = list(s.scalars(select(PositionFix).where(PositionFix.vehicle_id == vehicle_id)))
        if len(rows) >= n or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def test_fixes_published_on_the_vehicle_topic_are_stored(
    mqtt_client: TestClient, database: Database, tenant: Tenant
) -> None:
    """A single fix and a batch published to lastmile/<org>/vehicles/<id>/position arrive;
    the bad fixes among them (teleport, NaN) are refused, an unreadable message dropped."""
    vehicle = mqtt_client.post(
        "/v1/vehicles", json=vehicle_payload(tenant.depot_id), headers=tenant.headers("dispatcher")
    ).json()["id"]
    topic = f"lastmile/{tenant.organization_id}/vehicles/{vehicle}/position"
    now = datetime.now(UTC)
    one = {"t": now.timestamp() - 30, "lat": 41.15, "lon": -8.61, "speed": 8.0, "battery": 0.9}
    publish(topic, json.dumps(one).encode())
    assert len(wait_for_rows(database, vehicle, 1)) == 1
    batch = {
        "fixes": [
            {"t": (now - timedelta(seconds=20)).isoformat(), "lat": 41.1501, "lon": -8.6101},
            {"t": (now - timedelta(seconds=15)).isoformat(), "lat": 44.0, "lon": -8.6101},
            {"t": (now - timedelta(seconds=10)).isoformat(), "lat": float("nan"), "lon": -8.61},
            {"t": (now - timedelta(seconds=5)).isoformat(), "lat": 41.1503, "lon": -8.6103},
        ]
    }
    publish(topic, json.dumps(batch).encode())
    publish(topic, b"not json at all")
    rows = wait_for_rows(database, vehicle, 3)
    time.sleep(0.3)  # let anything wrongly accepted arrive too
    rows = wait_for_rows(database, vehicle, 3)
    assert sorted(r.lat for r in rows) == [41.15, 41.1501, 41.1503]
    assert {r.source for r in rows} == {"mqtt"}


def test_a_vehicle_of_another_organisation_is_not_written(
    mqtt_client: TestClient, database: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    """A topic naming one organisation with another's vehicle stores nothing."""
    vehicle = mqtt_client.post(
        "/v1/vehicles", json=vehicle_payload(tenant.depot_id), headers=tenant.headers("dispatcher")
    ).json()["id"]
    topic = f"lastmile/{other_tenant.organization_id}/vehicles/{vehicle}/position"
    fix = {"t": datetime.now(UTC).timestamp(), "lat": 41.15, "lon": -8.61}
    publish(topic, json.dumps(fix).encode())
    assert wait_for_rows(database, vehicle, 1, timeout=1.5) == []


def test_payload_and_topic_parsing() -> None:
    """Topics must have the documented shape; payloads need lat, lon and a time."""
    assert parse_topic("lastmile/org_1/vehicles/veh_2/position") == ("org_1", "veh_2")
    for bad in ("lastmile/org_1/vehicles/veh_2", "other/org/vehicles/v/position"):
        with pytest.raises(PayloadError):
            parse_topic(bad)
    for payload in (
        b"[1]",
        b'{"lat": 1}',
        b'{"lat": 1, "lon": 2}',
        b'{"lat": "x", "lon": 2, "t": 1}',
    ):
        with pytest.raises(PayloadError):
            parse_payload(payload)
    (fix,) = parse_payload(b'{"lat": 41.1, "lon": -8.6, "t": 1700000000000}')
    assert fix.t == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)

"""The live-tracking machinery of one server process, built from settings and started by the
app's lifespan: broker, hot positions, ingest, route processor, MQTT and the retention job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.kit.periodic import PeriodicJob
from lastmile.live.broker import Broker
from lastmile.live.latest import LatestPositions, build_latest_positions
from lastmile.services import Services
from lastmile.tracking.fixes import FixRules
from lastmile.tracking.ingest import PositionIngest, purge_trace
from lastmile.tracking.mqtt import MqttPositionSubscriber
from lastmile.tracking.processor import TrackingProcessor

RETENTION_INTERVAL_S = 3600.0


@dataclass
class TrackingRuntime:
    settings: Settings
    broker: Broker
    latest: LatestPositions
    ingest: PositionIngest
    processor: TrackingProcessor
    mqtt: MqttPositionSubscriber | None
    retention: PeriodicJob

    @classmethod
    def build(cls, settings: Settings, db: Database, services: Services) -> TrackingRuntime:
        broker = services.broker
        latest = build_latest_positions(settings.redis_url)
        processor = TrackingProcessor(db, services, broker, latest, inline=settings.tracking_inline)
        rules = FixRules(
            max_age=timedelta(hours=settings.position_max_age_hours),
            max_speed_kmh=settings.position_max_speed_kmh,
        )
        ingest = PositionIngest(rules, latest, broker, sink=processor.submit)
        mqtt = (
            MqttPositionSubscriber(settings.mqtt_url, db, ingest, group=settings.mqtt_share_group)
            if settings.mqtt_url
            else None
        )
        retention_period = timedelta(days=settings.trace_retention_days)

        def purge() -> None:
            with db.unit_of_work() as session:
                purge_trace(session, retention_period)

        retention = PeriodicJob("trace-retention", RETENTION_INTERVAL_S, purge)
        return cls(settings, broker, latest, ingest, processor, mqtt, retention)

    async def start(self) -> None:
        await self.broker.start()
        self.processor.start()
        if self.mqtt is not None:
            self.mqtt.start()
        self.retention.start()

    async def stop(self) -> None:
        self.retention.stop()
        if self.mqtt is not None:
            self.mqtt.stop()
        self.processor.stop()
        await self.broker.stop()

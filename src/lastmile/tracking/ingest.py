"""Position ingest shared by every path (app, OsmAnd, MQTT): screen, store, keep hot, hand on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lastmile.db.engine import after_commit
from lastmile.kit.clock import iso_z, utcnow
from lastmile.live.broker import Broker
from lastmile.live.channels import fleet_channel
from lastmile.live.events import LiveEvent
from lastmile.live.latest import LatestPositions, VehiclePosition
from lastmile.tracking.fixes import (
    Anchor,
    FixRules,
    IncomingFix,
    Refused,
    Rejection,
    screen_fixes,
)
from lastmile.tracking.metrics import count_fixes
from lastmile.tracking.models import FixSource, PositionFix

FixSink = Callable[[str, str, list[IncomingFix]], None]
"""Receives (organization_id, vehicle_id, accepted fixes in time order) after commit."""


@dataclass(frozen=True, slots=True)
class IngestResult:
    vehicle_id: str
    accepted: int
    refused: list[Refused]


@dataclass(frozen=True)
class PositionIngest:
    """Everything the ingest needs beyond the request: rules and the hot-path adapters."""

    rules: FixRules
    latest: LatestPositions
    broker: Broker
    sink: FixSink | None = None

    def record(
        self,
        session: Session,
        organization_id: str,
        vehicle_id: str,
        fixes: Sequence[IncomingFix],
        source: FixSource,
        *,
        driver_id: str | None = None,
        now: datetime | None = None,
    ) -> IngestResult:
        """
        Screen and store one vehicle's fixes inside the caller's unit of work.

        Accepted fixes are inserted with the trace's (vehicle, instant) key, so a retried
        batch stores nothing twice; the hot position, the live fleet event and the tracking
        sink follow once the transaction commits.
        """
        now = now or utcnow()
        anchor = self._anchor(session, organization_id, vehicle_id)
        screening = screen_fixes(fixes, anchor, now, self.rules)
        refused = list(screening.refused)
        stored = self._insert(
            session, organization_id, vehicle_id, driver_id, screening.accepted, source, now
        )
        accepted = [(i, fix) for i, fix in screening.accepted if fix.t in stored]
        refused += [
            Refused(i, Rejection.duplicate, "a fix at this instant exists")
            for i, fix in screening.accepted
            if fix.t not in stored
        ]
        refused.sort(key=lambda r: r.index)
        count_fixes(source.value, "accepted", len(accepted))
        for reason in Rejection:
            count_fixes(source.value, reason.value, sum(r.reason is reason for r in refused))
        if accepted:
            fresh = [fix for _, fix in accepted]
            newest = fresh[-1]
            if anchor is None or newest.t > anchor.t:
                position = _vehicle_position(vehicle_id, driver_id, newest, now)
                after_commit(session, lambda: self._publish(organization_id, position))
            if self.sink is not None:
                sink = self.sink
                after_commit(session, lambda: sink(organization_id, vehicle_id, fresh))
        return IngestResult(vehicle_id=vehicle_id, accepted=len(accepted), refused=refused)

    def _anchor(self, session: Session, organization_id: str, vehicle_id: str) -> Anchor | None:
        hot = self.latest.get_many(organization_id, [vehicle_id]).get(vehicle_id)
        if hot is not None:
            return Anchor(datetime.fromtimestamp(hot.t, UTC), hot.lat, hot.lon)
        # Cold start (restart, in-memory store): the newest stored fix is the anchor.
        row = session.execute(
            select(PositionFix.recorded_at, PositionFix.lat, PositionFix.lon)
            .where(PositionFix.vehicle_id == vehicle_id)
            .order_by(PositionFix.recorded_at.desc())
            .limit(1)
        ).first()
        return Anchor(row[0], row[1], row[2]) if row else None

    def _insert(
        self,
        session: Session,
        organization_id: str,
        vehicle_id: str,
        driver_id: str | None,
        accepted: list[tuple[int, IncomingFix]],
        source: FixSource,
        now: datetime,
    ) -> set[datetime]:
        if not accepted:
            return set()
        rows: list[dict[str, Any]] = [
            {
                "organization_id": organization_id,
                "vehicle_id": vehicle_id,
                "driver_id": driver_id,
                "recorded_at": fix.t,
                "received_at": now,
                "lat": fix.lat,
                "lon": fix.lon,
                "accuracy_m": fix.accuracy_m,
                "speed_mps": fix.speed_mps,
                "heading_deg": fix.heading_deg,
                "battery": fix.battery,
                "source": source,
            }
            for _, fix in accepted
        ]
        dialect = session.get_bind().dialect.name
        stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(PositionFix)
        stmt = stmt.on_conflict_do_nothing(index_elements=["vehicle_id", "recorded_at"])
        returned = session.scalars(
            stmt.returning(PositionFix.recorded_at, sort_by_parameter_order=True), rows
        ).all()
        return {t if t.tzinfo else t.replace(tzinfo=UTC) for t in returned}

    def _publish(self, organization_id: str, position: VehiclePosition) -> None:
        # Only a position that is still the newest moves the marker (a concurrent request
        # may have stored a later one meanwhile).
        if not self.latest.put_many(organization_id, {position.vehicle_id: position}):
            return
        self.broker.publish(
            fleet_channel(organization_id), LiveEvent("position", position_payload(position))
        )


def _vehicle_position(
    vehicle_id: str, driver_id: str | None, fix: IncomingFix, now: datetime
) -> VehiclePosition:
    return VehiclePosition(
        vehicle_id=vehicle_id,
        t=fix.t.timestamp(),
        lat=fix.lat,
        lon=fix.lon,
        speed_mps=fix.speed_mps,
        heading_deg=fix.heading_deg,
        accuracy_m=fix.accuracy_m,
        battery=fix.battery,
        driver_id=driver_id,
        received_at=now.timestamp(),
    )


def position_payload(position: VehiclePosition) -> dict[str, Any]:
    """The public shape of a vehicle position (fleet API and live events)."""
    return {
        "vehicle_id": position.vehicle_id,
        "driver_id": position.driver_id,
        "at": iso_z(datetime.fromtimestamp(position.t, UTC)),
        "lat": position.lat,
        "lon": position.lon,
        "speed_mps": position.speed_mps,
        "heading_deg": position.heading_deg,
        "accuracy_m": position.accuracy_m,
        "battery": position.battery,
        "received_at": iso_z(datetime.fromtimestamp(position.received_at, UTC)),
    }


def purge_trace(session: Session, older_than: timedelta, now: datetime | None = None) -> int:
    """Delete stored fixes recorded before ``now - older_than`` (all tenants); returns count."""
    cutoff = (now or utcnow()) - older_than
    result = session.execute(delete(PositionFix).where(PositionFix.recorded_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)

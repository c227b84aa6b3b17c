"""Stored traces are purged after the retention period by a scheduled job."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lastmile.app import create_app
from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.tracking.ingest import purge_trace
from lastmile.tracking.models import FixSource, PositionFix
from tests.factories import Tenant, vehicle_payload


def add_fix(db: Database, tenant: Tenant, vehicle_id: str, age: timedelta) -> None:
    at = datetime.now(UTC) - age
    with db.unit_of_work() as s:
        s.add(
            PositionFix(
                organization_id=tenant.organization_id, vehicle_id=vehicle_id, recorded_at=at,
                received_at=at, lat=41.15, lon=-8.61, source=FixSource.app,
            )
        )  # fmt: skip


def ages(db: Database) -> list[float]:
    with db.unit_of_work(readonly=True) as s:
        times = s.scalars(select(PositionFix.recorded_at)).all()
    now = datetime.now(UTC)
    return sorted(round((now - t) / timedelta(days=1)) for t in times)


def test_purge_deletes_only_fixes_older_than_the_period(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """Fixes older than the period go; younger ones stay."""
    vehicle = client.post(
        "/v1/vehicles", json=vehicle_payload(tenant.depot_id), headers=tenant.headers("admin")
    ).json()["id"]
    for days in (1, 29, 31, 90):
        add_fix(database, tenant, vehicle, timedelta(days=days))
    with database.unit_of_work() as s:
        assert purge_trace(s, timedelta(days=30)) == 2
    assert ages(database) == [1, 29]


def test_the_app_runs_the_purge_on_a_schedule(
    tmp_path: Path, database: Database, tenant: Tenant, client: TestClient
) -> None:
    """Starting the app starts the retention job, which honours trace_retention_days."""
    vehicle = client.post(
        "/v1/vehicles", json=vehicle_payload(tenant.depot_id), headers=tenant.headers("admin")
    ).json()["id"]
    add_fix(database, tenant, vehicle, timedelta(days=3))
    add_fix(database, tenant, vehicle, timedelta(hours=1))
    settings = Settings(
        environment="test", data_dir=tmp_path, auto_migrate=False, trace_retention_days=2
    )
    with TestClient(create_app(settings, database=database)):
        deadline = time.monotonic() + 10
        while len(ages(database)) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    with database.unit_of_work(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(PositionFix)) == 1

"""Timestamps are stored as instants and read back timezone-aware in UTC on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from lastmile.db.engine import Database
from lastmile.fleet.models import Shift
from lastmile.kit.ids import new_id
from tests.factories import Tenant, shift_payload

LISBON_SUMMER = timezone(timedelta(hours=1))
INDIA = timezone(timedelta(hours=5, minutes=30))
NEW_YORK_WINTER = timezone(timedelta(hours=-5))


def _shift(tenant: Tenant, starts_at: datetime) -> Shift:
    return Shift(
        id=new_id("shf"),
        organization_id=tenant.organization_id,
        driver_id=tenant.driver_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=8),
        breaks=[],
    )


def test_aware_timestamps_round_trip_in_utc(database: Database, tenant: Tenant) -> None:
    """A timestamp written with any offset reads back as the same instant, with tzinfo UTC."""
    written = {
        offset: datetime(2031, 3, 30, 9, 15, 30, 123456, tzinfo=offset)
        for offset in (UTC, LISBON_SUMMER, INDIA, NEW_YORK_WINTER)
    }
    ids = {}
    with database.unit_of_work() as session:
        for offset, moment in written.items():
            shift = _shift(tenant, moment)
            session.add(shift)
            ids[offset] = shift.id
    with database.unit_of_work() as session:
        for offset, moment in written.items():
            shift = session.get(Shift, ids[offset])
            assert shift is not None
            assert shift.starts_at == moment
            assert shift.starts_at.utcoffset() == timedelta(0)
            assert shift.created_at.utcoffset() == timedelta(0)


def test_sql_orders_timestamps_by_instant(database: Database, tenant: Tenant) -> None:
    """ORDER BY and range filters in SQL follow instants, whatever offset values came with."""
    base = datetime(2031, 1, 10, 12, 0, tzinfo=UTC)
    # Later instants written with offsets that make their local clock time earlier.
    moments = [
        base.astimezone(INDIA),
        (base + timedelta(hours=1)).astimezone(NEW_YORK_WINTER),
        (base + timedelta(hours=2)).astimezone(LISBON_SUMMER),
    ]
    with database.unit_of_work() as session:
        session.add_all(_shift(tenant, m) for m in reversed(moments))
    with database.unit_of_work() as session:
        stored = list(session.scalars(select(Shift.starts_at).order_by(Shift.starts_at)))
        window = list(
            session.scalars(
                select(Shift.starts_at).where(
                    Shift.starts_at >= base + timedelta(minutes=30),
                    Shift.starts_at < base + timedelta(hours=1, minutes=30),
                )
            )
        )
    assert stored == moments
    assert window == [moments[1]]


def test_naive_timestamp_is_refused_by_the_column(database: Database, tenant: Tenant) -> None:
    """A naive datetime never reaches the database: the UTC column type rejects it."""
    with database.unit_of_work() as session:
        session.add(_shift(tenant, datetime(2031, 1, 1, 9, 0)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()
        session.rollback()


def test_api_answers_timestamps_in_utc(client: TestClient, tenant: Tenant) -> None:
    """Times sent with a +05:30 offset are answered, stored and read back as instants in UTC."""
    body = shift_payload(
        tenant.driver_id,
        starts_at="2031-06-01T08:00:00+05:30",
        ends_at="2031-06-01T16:00:00+05:30",
        breaks=[
            {
                "earliest_start": "2031-06-01T12:00:00+05:30",
                "latest_end": "2031-06-01T13:00:00+05:30",
                "duration_minutes": 30,
            }
        ],
    )
    admin = tenant.headers("admin")
    created = client.post("/v1/shifts", json=body, headers=admin)
    assert created.status_code == 201, created.text
    url = f"/v1/shifts/{created.json()['id']}"
    patched = client.patch(url, json={"ends_at": "2031-06-01T17:00:00+05:30"}, headers=admin)
    assert patched.status_code == 200, patched.text
    for answer in (created.json(), patched.json(), client.get(url, headers=admin).json()):
        starts = datetime.fromisoformat(answer["starts_at"])
        assert starts.utcoffset() == timedelta(0)
        assert starts == datetime(2031, 6, 1, 2, 30, tzinfo=UTC)
        brk = datetime.fromisoformat(answer["breaks"][0]["earliest_start"])
        assert brk.utcoffset() == timedelta(0)
        assert brk == datetime(2031, 6, 1, 6, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "moment",
    ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"],
    ids=["year-1", "year-9999"],
)
def test_times_utc_cannot_hold_are_refused(client: TestClient, tenant: Tenant, moment: str) -> None:
    """A valid ISO time whose UTC instant falls outside years 1..9999 is a 422, not a crash."""
    body = shift_payload(tenant.driver_id, starts_at=moment)
    response = client.post("/v1/shifts", json=body, headers=tenant.headers("admin"))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "starts_at"

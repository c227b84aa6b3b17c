"""Builders for the self-service tests: days and slots in the organization's time, links,
routes with room to spare, and a recorder of live events."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from lastmile.db.engine import Database
from lastmile.fleet.models import Shift
from lastmile.kit.ids import new_id
from lastmile.live.events import LiveEvent
from lastmile.planning.models import RouteStop
from lastmile.slots.policy import slot_id
from tests.factories import Tenant, order_payload, vehicle_payload
from tests.tracking.builders import BuiltRoute, committed_route

LISBON = ZoneInfo("Europe/Lisbon")  # make_tenant's organization time zone
HOME = (41.1496, -8.6067)  # order_payload's address
# Two days ahead: the slot policy closes a day at 22:00 the evening before, so a day after
# tomorrow is open whatever time the tests run.
DAY = 2


def day(n: int = DAY) -> date:
    """The date ``n`` days from today in the organization's time zone."""
    return datetime.now(LISBON).date() + timedelta(days=n)


def at(when: date, hour: int, minute: int = 0) -> datetime:
    """A local wall-clock time of the organization, as an aware UTC datetime."""
    return datetime(when.year, when.month, when.day, hour, minute, tzinfo=LISBON).astimezone(UTC)


def slot(tenant: Tenant, when: date, hour: int) -> str:
    """The id of the default policy's two-hour window starting at ``hour`` local."""
    return slot_id(at(when, hour), 120, tenant.depot_id)


def window(when: date, start: int, end: int) -> dict[str, str]:
    return {"start": at(when, start).isoformat(), "end": at(when, end).isoformat()}


def new_order(client: TestClient, tenant: Tenant, when: date | None = None, **fields: Any) -> str:
    """A merchant's doorstep order for ``when`` (10:00-12:00 local) at HOME."""
    body = order_payload(windows=[window(when or day(), 10, 12)], **fields)
    created = client.post("/v1/orders", json=body, headers=tenant.headers("merchant"))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def issue(client: TestClient, tenant: Tenant, order_id: str) -> dict[str, Any]:
    """A tracking link for the order: its id and token."""
    response = client.post(
        f"/v1/orders/{order_id}/tracking-links", headers=tenant.headers("merchant")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def roomy_route(
    client: TestClient, db: Database, tenant: Tenant, points: list[tuple[float, float]],
    when: date | None = None, *, slack_s: int = 4 * 3600, shift_end: int = 19,
) -> BuiltRoute:  # fmt: skip
    """A dispatched route at 08:00 local on ``when``, its stops with ``slack_s`` to spare and
    the driver on shift until ``shift_end`` o'clock, so a visit fits in later that day."""
    when = when or day()
    built = committed_route(client, db, tenant, points, starts_at=at(when, 8))
    with db.unit_of_work() as session:
        session.execute(
            update(RouteStop).where(RouteStop.route_id == built.route_id).values(slack_s=slack_s)
        )
        session.add(
            Shift(
                id=new_id("shf"), organization_id=tenant.organization_id,
                driver_id=tenant.driver_id, starts_at=at(when, 7), ends_at=at(when, shift_end),
                breaks=[],
            )
        )  # fmt: skip
    return built


def stops_of(db: Database, route_id: str) -> list[RouteStop]:
    with db.unit_of_work(readonly=True) as session:
        return list(
            session.scalars(
                select(RouteStop).where(RouteStop.route_id == route_id).order_by(RouteStop.position)
            )
        )


@contextmanager
def recorded_events(client: TestClient) -> Iterator[list[tuple[str, LiveEvent]]]:
    """Every (channel, event) the app publishes while the block runs."""
    broker = client.app.state.services.broker  # type: ignore[attr-defined]
    published: list[tuple[str, LiveEvent]] = []
    original = broker.publish_many

    def record(items: Any) -> None:
        published.extend(items)
        original(items)

    broker.publish_many = record
    try:
        yield published
    finally:
        broker.publish_many = original


def add_van(client: TestClient, tenant: Tenant) -> str:
    """A van at the tenant's depot: without a vehicle no slot is feasible."""
    created = client.post(
        "/v1/vehicles", json=vehicle_payload(tenant.depot_id), headers=tenant.headers("admin")
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])

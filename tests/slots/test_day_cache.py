"""The per-process day cache: kept while only the tracker's bookkeeping changes, dropped when
anything the insertion arrays are built from changes."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import update

from lastmile.auth.principal import Access, Principal
from lastmile.db.engine import Database
from lastmile.planning.models import Route, RouteStop, StopStatus
from lastmile.slots.repository import PlanReader
from tests.factories import Tenant
from tests.tracking.builders import committed_route

STOPS = [(41.150, -8.610), (41.155, -8.615), (41.160, -8.620)]


def test_fixes_keep_the_day_but_a_served_stop_changes_it(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    route = committed_route(client, database, tenant, STOPS)
    principal = Principal(tenant.organization_id, Access.admin, system="test")
    with database.unit_of_work(readonly=True) as session:
        day = session.get_one(Route, route.route_id).service_date

    def mark() -> tuple[object, ...]:
        with database.unit_of_work(readonly=True) as session:
            return PlanReader(session, principal, 0.2).fingerprint(day)

    before = mark()
    with database.unit_of_work() as session:  # what every processed fix writes
        session.execute(
            update(Route)
            .where(Route.id == route.route_id)
            .values(tracking_state={"seen": 1}, last_fix_at=datetime.now(UTC),
                    updated_at=datetime.now(UTC))
        )  # fmt: skip
    assert mark() == before
    with database.unit_of_work() as session:
        session.execute(
            update(RouteStop)
            .where(RouteStop.id == route.stop_ids[0])
            .values(status=StopStatus.departed)
        )
    assert mark() != before

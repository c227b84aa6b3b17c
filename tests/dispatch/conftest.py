"""Two committed routes of today, side by side, with room to move stops between them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from lastmile.db.engine import Database
from lastmile.planning.models import RouteStop
from tests.factories import Tenant
from tests.tracking.builders import BuiltRoute, committed_route

# Stops around the demo depot (41.15, -8.61), a few hundred metres apart.
WEST = [(41.152, -8.615), (41.154, -8.618), (41.156, -8.620)]
EAST = [(41.151, -8.605), (41.153, -8.602), (41.155, -8.600)]
SLACK_S = 3600


@dataclass
class Day:
    west: BuiltRoute
    east: BuiltRoute


def with_slack(db: Database, route: BuiltRoute, slack_s: int = SLACK_S) -> BuiltRoute:
    """The builder plans no slack; give every stop ``slack_s`` (as a planner would)."""
    with db.unit_of_work() as session:
        session.execute(
            update(RouteStop).where(RouteStop.route_id == route.route_id).values(slack_s=slack_s)
        )
    return route


def build_route(
    client: TestClient, db: Database, tenant: Tenant, points: Sequence[tuple[float, float]]
) -> BuiltRoute:
    starts_at = datetime.now(UTC) - timedelta(minutes=5)
    return with_slack(db, committed_route(client, db, tenant, points, starts_at=starts_at))


@pytest.fixture
def day(client: TestClient, database: Database, tenant: Tenant) -> Day:
    return Day(
        west=build_route(client, database, tenant, WEST),
        east=build_route(client, database, tenant, EAST),
    )

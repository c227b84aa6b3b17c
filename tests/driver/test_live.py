"""The driver app's live stream: drivers only, following the orders of their routes today."""

from __future__ import annotations

from fastapi.testclient import TestClient

from lastmile.auth.service import authenticate
from lastmile.config import Settings
from lastmile.db.engine import Database
from lastmile.driver.today import TodayService
from tests.driver.conftest import OtherDriver
from tests.factories import Tenant
from tests.helpers import assert_problem
from tests.tracking.builders import BuiltRoute


def test_the_stream_is_for_drivers(client: TestClient, tenant: Tenant) -> None:
    """No token: 401; staff and merchants have the fleet stream or none: 403."""
    assert_problem(client.get("/v1/live/driver"), 401)
    for who in ("dispatcher", "merchant"):
        assert_problem(client.get("/v1/live/driver", headers=tenant.headers(who)), 403)


def test_it_follows_the_orders_of_the_drivers_routes_today(
    database: Database,
    tenant: Tenant,
    route: BuiltRoute,
    other_driver: OtherDriver,
    settings: Settings,
) -> None:
    """The stream's channels are the orders on the calling driver's routes, no one else's."""
    with database.unit_of_work(readonly=True) as session:
        mine = authenticate(session, tenant.tokens["driver"])
        theirs = authenticate(session, other_driver.headers["Authorization"].split()[1])
        assert TodayService(session, mine, settings).order_ids() == route.order_ids
        assert TodayService(session, theirs, settings).order_ids() == []

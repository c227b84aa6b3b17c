"""The demo history seeder: finished days for the tenant's fleet, the same for a seed, once."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lastmile.db.engine import Database
from lastmile.demo.history import seed_history
from lastmile.orders.models import Order
from lastmile.orders.status import OrderStatus
from lastmile.planning.models import Route, RouteStatus, RouteStop
from tests.factories import Tenant, make_tenant
from tests.reports.builders import TODAY, seed_fleet


def _day_figures(db: Database, organization_id: str) -> list[tuple[object, ...]]:
    with db.unit_of_work(readonly=True) as s:
        return list(s.execute(
            select(Order.service_date, Order.status, func.count(),
                   func.min(Order.merchant_reference))
            .where(Order.organization_id == organization_id)
            .group_by(Order.service_date, Order.status).order_by(Order.service_date, Order.status)
        ).all())  # fmt: skip


def test_history_is_finished_deterministic_and_written_once(
    client: TestClient, database: Database, tenant: Tenant
) -> None:
    """Every past day has completed routes with every stop reached and every order delivered
    or failed; a second tenant seeded alike gets the same days; a second call adds nothing."""
    seed_fleet(client, tenant)
    first = seed_history(database, tenant.organization_id, days=2, orders_per_day=30, today=TODAY)
    assert [d.isoformat() for d in first.days] == ["2024-05-14", "2024-05-15"]
    assert first.orders > 40
    assert first.routes >= 4
    with database.unit_of_work(readonly=True) as s:
        routes = s.scalars(select(Route).where(Route.organization_id == tenant.organization_id))
        assert {r.status for r in routes} == {RouteStatus.completed}
        open_stops = s.scalar(select(func.count()).where(
            RouteStop.organization_id == tenant.organization_id,
            RouteStop.arrived_at.is_(None)))  # fmt: skip
        assert open_stops == 0
    figures = _day_figures(database, tenant.organization_id)
    assert {row[1] for row in figures} == {OrderStatus.delivered, OrderStatus.failed}

    twin = make_tenant(database, "Twin")
    seed_fleet(client, twin)
    seed_history(database, twin.organization_id, days=2, orders_per_day=30, today=TODAY)
    assert _day_figures(database, twin.organization_id) == figures

    again = seed_history(database, tenant.organization_id, days=2, orders_per_day=30, today=TODAY)
    assert again.days == []
    assert again.orders == 0
    assert _day_figures(database, tenant.organization_id) == figures

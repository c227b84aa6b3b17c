"""All SQL of self-service: pick-up points and the compartments a day's orders take."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import func, select

from lastmile.db.repository import TenantRepository
from lastmile.fleet.models import PickupPoint
from lastmile.orders.models import Order
from lastmile.orders.status import OrderStatus

# Orders that hold no compartment: never delivered there, or delivered elsewhere after all.
NOT_IN_A_COMPARTMENT = (OrderStatus.failed, OrderStatus.returned, OrderStatus.cancelled)


class PickupPointUse(TenantRepository[PickupPoint]):
    """Pick-up points in the caller's scope and how many compartments a day's orders take."""

    model = PickupPoint

    def active(self) -> list[PickupPoint]:
        return list(self.session.scalars(self.scoped().where(PickupPoint.active.is_(True))))

    def lock(self, point_id: str) -> PickupPoint | None:
        """The point, row-locked until the transaction ends (PostgreSQL; SQLite has one writer).

        Counting compartments under this lock is what makes two redirects to the last free
        compartment queue: the second counts after the first has committed.
        """
        stmt = self.scoped().where(PickupPoint.id == point_id).with_for_update()
        return self.session.scalars(stmt).first()

    def taken(self, point_ids: Collection[str], day: date, *, besides: str) -> dict[str, int]:
        """Compartments taken on ``day`` at each point by orders other than ``besides``."""
        if not point_ids:
            return {}
        stmt = (
            select(Order.pickup_point_id, func.count())
            .where(
                Order.organization_id == self.scope.organization_id,
                Order.pickup_point_id.in_(point_ids),
                Order.service_date == day,
                Order.status.not_in(NOT_IN_A_COMPARTMENT),
                Order.id != besides,
            )
            .group_by(Order.pickup_point_id)
        )
        return {point_id: n for point_id, n in self.session.execute(stmt) if point_id}

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, false, select, update

from lastmile.auth.principal import Access, Principal
from lastmile.db.repository import TenantRepository
from lastmile.orders.models import Order, OrderEvent, Parcel
from lastmile.orders.status import OrderStatus


class OrderRepository(TenantRepository[Order]):
    model = Order
    scope: Principal

    def scoped(self) -> Select[Order]:
        stmt = super().scoped()
        if self.scope.access is Access.driver:
            # Drivers see the orders assigned to them and nothing else. A driver login no driver
            # profile names sees none (comparing with None would match every unassigned order).
            driver_id = self.scope.driver_id
            stmt = stmt.where(Order.driver_id == driver_id if driver_id is not None else false())
        return stmt

    def existing_references(self, merchant_id: str | None, refs: Collection[str]) -> set[str]:
        if not refs:
            return set()
        stmt = select(Order.merchant_reference).where(
            Order.organization_id == self.scope.organization_id,
            Order.merchant_id.is_(None)
            if merchant_id is None
            else Order.merchant_id == merchant_id,
            Order.merchant_reference.in_(refs),
        )
        return {ref for ref in self.session.scalars(stmt) if ref is not None}

    def existing_barcodes(self, barcodes: Collection[str]) -> set[str]:
        if not barcodes:
            return set()
        stmt = select(Parcel.barcode).where(
            Parcel.organization_id == self.scope.organization_id, Parcel.barcode.in_(barcodes)
        )
        return set(self.session.scalars(stmt))

    def compare_and_set_status(
        self, order: Order, expected: OrderStatus, values: dict[str, Any]
    ) -> bool:
        """Write ``values`` only if the status is still ``expected`` (no lost updates)."""
        result = self.session.execute(
            update(Order)
            .where(Order.id == order.id, Order.status == expected)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        self.session.refresh(order)
        return bool(getattr(result, "rowcount", 0) == 1)

    def events(self, order_id: str) -> list[OrderEvent]:
        stmt = (
            select(OrderEvent)
            .where(
                OrderEvent.organization_id == self.scope.organization_id,
                OrderEvent.order_id == order_id,
            )
            .order_by(OrderEvent.at, OrderEvent.id)
        )
        return list(self.session.scalars(stmt))

from __future__ import annotations

from datetime import datetime

from lastmile.db.repository import TenantRepository
from lastmile.fleet.models import Depot, Driver, PickupPoint, Shift, Vehicle


class DepotRepository(TenantRepository[Depot]):
    model = Depot


class VehicleRepository(TenantRepository[Vehicle]):
    model = Vehicle


class DriverRepository(TenantRepository[Driver]):
    model = Driver


class ShiftRepository(TenantRepository[Shift]):
    model = Shift

    def starting_between(self, start: datetime, end: datetime) -> list[Shift]:
        stmt = self.scoped().where(Shift.starts_at >= start, Shift.starts_at < end)
        return list(self.session.scalars(stmt))


class PickupPointRepository(TenantRepository[PickupPoint]):
    model = PickupPoint

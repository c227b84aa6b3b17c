from __future__ import annotations

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


class PickupPointRepository(TenantRepository[PickupPoint]):
    model = PickupPoint

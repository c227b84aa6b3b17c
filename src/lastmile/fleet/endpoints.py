"""HTTP routes for depots, vehicles, drivers, shifts, lockers and pick-up points."""

from __future__ import annotations

from fastapi import APIRouter

from lastmile.auth.principal import STAFF, Access
from lastmile.crud import Resource, crud_router
from lastmile.fleet import schemas as s
from lastmile.fleet.repository import (
    DepotRepository,
    DriverRepository,
    PickupPointRepository,
    ShiftRepository,
    VehicleRepository,
)
from lastmile.fleet.service import check_driver_login

DEPOTS = Resource(
    path="/v1/depots",
    noun="depot",
    id_prefix="dep",
    repository=DepotRepository,
    create_schema=s.DepotCreate,
    update_schema=s.DepotUpdate,
    read_schema=s.DepotRead,
    read_access=STAFF,
    write_access=STAFF,
    filters={"kind": "kind"},
)
VEHICLES = Resource(
    path="/v1/vehicles",
    noun="vehicle",
    id_prefix="veh",
    repository=VehicleRepository,
    create_schema=s.VehicleCreate,
    update_schema=s.VehicleUpdate,
    read_schema=s.VehicleRead,
    read_access=STAFF,
    write_access=STAFF,
    references={"home_depot_id": DepotRepository},
    filters={"type": "type", "home_depot_id": "home_depot_id"},
)
DRIVERS = Resource(
    path="/v1/drivers",
    noun="driver",
    id_prefix="drv",
    repository=DriverRepository,
    create_schema=s.DriverCreate,
    update_schema=s.DriverUpdate,
    read_schema=s.DriverRead,
    read_access=STAFF,
    write_access=STAFF,
    references={"home_depot_id": DepotRepository},
    before_save=check_driver_login,
    filters={"home_depot_id": "home_depot_id"},
)
SHIFTS = Resource(
    path="/v1/shifts",
    noun="shift",
    id_prefix="shf",
    repository=ShiftRepository,
    create_schema=s.ShiftCreate,
    update_schema=s.ShiftUpdate,
    read_schema=s.ShiftRead,
    read_access=STAFF,
    write_access=STAFF,
    references={"driver_id": DriverRepository},
    filters={"driver_id": "driver_id"},
)
PICKUP_POINTS = Resource(
    path="/v1/pickup-points",
    noun="pickup point",
    id_prefix="pup",
    repository=PickupPointRepository,
    create_schema=s.PickupPointCreate,
    update_schema=s.PickupPointUpdate,
    read_schema=s.PickupPointRead,
    # Merchants read them to offer locker / pick-up delivery at checkout.
    read_access=(*STAFF, Access.merchant),
    write_access=STAFF,
    filters={"kind": "kind"},
)

router = APIRouter()
for resource in (DEPOTS, VEHICLES, DRIVERS, SHIFTS, PICKUP_POINTS):
    router.include_router(crud_router(resource, tags=["fleet"]))

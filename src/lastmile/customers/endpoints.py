"""HTTP routes for customers (recipients) and their addresses."""

from __future__ import annotations

from fastapi import APIRouter

from lastmile.auth.principal import STAFF, Access
from lastmile.crud import Resource, crud_router
from lastmile.customers import schemas as s
from lastmile.customers.repository import AddressRepository, CustomerRepository
from lastmile.customers.service import prepare_address, stamp_merchant

ACCESS = (*STAFF, Access.merchant)

CUSTOMERS = Resource(
    path="/v1/customers",
    noun="customer",
    id_prefix="cus",
    repository=CustomerRepository,
    create_schema=s.CustomerCreate,
    update_schema=s.CustomerUpdate,
    read_schema=s.CustomerRead,
    read_access=ACCESS,
    write_access=ACCESS,
    before_save=stamp_merchant,
)
ADDRESSES = Resource(
    path="/v1/addresses",
    noun="address",
    id_prefix="adr",
    repository=AddressRepository,
    create_schema=s.AddressCreate,
    update_schema=s.AddressUpdate,
    read_schema=s.AddressRead,
    read_access=ACCESS,
    write_access=ACCESS,
    references={"customer_id": CustomerRepository},
    before_save=prepare_address,
    filters={"customer_id": "customer_id"},
)

router = APIRouter()
for resource in (CUSTOMERS, ADDRESSES):
    router.include_router(crud_router(resource, tags=["customers"]))

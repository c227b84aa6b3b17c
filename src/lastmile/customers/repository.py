from __future__ import annotations

from lastmile.customers.models import Address, Customer
from lastmile.db.repository import TenantRepository


class CustomerRepository(TenantRepository[Customer]):
    model = Customer


class AddressRepository(TenantRepository[Address]):
    model = Address

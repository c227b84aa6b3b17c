"""Imports every domain's models so ``Base.metadata`` is complete (migrations, tests)."""

from lastmile.auth.models import AccessToken, ApiKey, User
from lastmile.customers.models import Address, Customer
from lastmile.db.base import Base
from lastmile.fleet.models import Depot, Driver, PickupPoint, Shift, Vehicle
from lastmile.idempotency.models import IdempotencyRecord
from lastmile.orders.models import DeliveryWindow, Order, OrderEvent, Parcel
from lastmile.organizations.models import Merchant, Organization
from lastmile.planning.models import Plan, Route, RouteStop
from lastmile.tracking.models import PositionFix, TrackingDevice, TrackingLink

__all__ = [
    "AccessToken",
    "Address",
    "ApiKey",
    "Base",
    "Customer",
    "DeliveryWindow",
    "Depot",
    "Driver",
    "IdempotencyRecord",
    "Merchant",
    "Order",
    "OrderEvent",
    "Organization",
    "Parcel",
    "PickupPoint",
    "Plan",
    "PositionFix",
    "Route",
    "RouteStop",
    "Shift",
    "TrackingDevice",
    "TrackingLink",
    "User",
    "Vehicle",
]

"""Imports every domain's models so ``Base.metadata`` is complete (migrations, tests)."""

from lastmile.auth.models import AccessToken, ApiKey, User
from lastmile.chat.models import ChatMessage, Conversation
from lastmile.customers.models import Address, Customer
from lastmile.db.base import Base
from lastmile.dispatch.models import Acknowledgement
from lastmile.driver.models import DeliveryProof, ParcelScan, ProofFile, RouteLoadout
from lastmile.feedback.models import Feedback, FeedbackTag, FollowUp
from lastmile.fleet.models import Depot, Driver, PickupPoint, Shift, Vehicle
from lastmile.idempotency.models import IdempotencyRecord
from lastmile.ledger.models import CustodyEntry, LedgerHead, LedgerRoot, OrganizationKey
from lastmile.notifications.models import (
    NotificationDelivery,
    OutboxEvent,
    WebhookEndpoint,
)
from lastmile.orders.models import DeliveryWindow, Order, OrderEvent, Parcel
from lastmile.organizations.models import Merchant, Organization
from lastmile.planning.models import Plan, Route, RouteStop
from lastmile.slots.models import SlotBooking, SlotCounter, SlotPolicy
from lastmile.tracking.models import PositionFix, TrackingDevice, TrackingLink

__all__ = [
    "AccessToken",
    "Acknowledgement",
    "Address",
    "ApiKey",
    "Base",
    "ChatMessage",
    "Conversation",
    "CustodyEntry",
    "Customer",
    "DeliveryProof",
    "DeliveryWindow",
    "Depot",
    "Driver",
    "Feedback",
    "FeedbackTag",
    "FollowUp",
    "IdempotencyRecord",
    "LedgerHead",
    "LedgerRoot",
    "Merchant",
    "NotificationDelivery",
    "Order",
    "OrderEvent",
    "Organization",
    "OrganizationKey",
    "OutboxEvent",
    "Parcel",
    "ParcelScan",
    "PickupPoint",
    "Plan",
    "PositionFix",
    "ProofFile",
    "Route",
    "RouteLoadout",
    "RouteStop",
    "Shift",
    "SlotBooking",
    "SlotCounter",
    "SlotPolicy",
    "TrackingDevice",
    "TrackingLink",
    "User",
    "Vehicle",
    "WebhookEndpoint",
]

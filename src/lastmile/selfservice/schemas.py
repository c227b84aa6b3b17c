"""What the customer sends and sees on ``/v1/self-service/{token}``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lastmile.fleet.models import PickupPointKind
from lastmile.orders.models import DeliveryMethod, SafePlace
from lastmile.orders.status import OrderStatus

SlotId = Field(min_length=1, max_length=100, examples=["slot_20261125T0800Z_120_dep_01jc"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WindowChange(_Body):
    """Another window on the same delivery day (a `slot_id` from `windows`)."""

    slot_id: str = SlotId


class Reschedule(_Body):
    """A window on another day (a `slot_id` from `days`)."""

    slot_id: str = SlotId


class Redirect(_Body):
    """Send the parcel to a locker or pick-up point from `pickup_points`; null: to the address."""

    pickup_point_id: str | None = Field(max_length=40)


class SafePlaceChange(_Body):
    """Where the driver may leave the parcel; null: hand it over at the door."""

    safe_place: SafePlace | None
    note: str | None = Field(default=None, max_length=300, description="e.g. 'behind the bins'")


class InstructionsChange(_Body):
    instructions: str | None = Field(max_length=1000, description="For the driver; null clears.")


class DeliveryOptions(_Body):
    """Ask for a signature or for in-home delivery (where the sender allows it)."""

    signature_required: bool | None = None
    in_home: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> DeliveryOptions:
        if self.signature_required is None and self.in_home is None:
            raise ValueError("give signature_required, in_home or both")
        return self


class ActionState(BaseModel):
    allowed: bool
    reason: str | None = Field(description="Why not, in words for the customer.")


class Actions(BaseModel):
    window: ActionState
    reschedule: ActionState
    redirect: ActionState
    safe_place: ActionState
    instructions: ActionState
    delivery_options: ActionState


class WindowOffer(BaseModel):
    slot_id: str
    date: date
    starts_at: datetime
    ends_at: datetime
    price: Decimal
    currency: str
    green: bool = Field(description="A van already passes nearby: fewer extra kilometres.")
    current: bool


class DayOffers(BaseModel):
    date: date
    windows: list[WindowOffer]


class PickupPointOffer(BaseModel):
    id: str
    name: str
    kind: PickupPointKind
    address: str | None
    lat: float
    lon: float
    distance_m: int
    free_compartments: int
    open: bool = Field(description="Open at the delivery time.")
    available: bool
    reason: str | None
    current: bool


class Allowances(BaseModel):
    """What the sender lets its customers ask for."""

    signature: bool
    in_home: bool


class Window(BaseModel):
    starts_at: datetime
    ends_at: datetime


class Choices(BaseModel):
    """The order's delivery as it stands."""

    service_date: date
    window: Window | None
    delivery_method: DeliveryMethod
    pickup_point_id: str | None
    safe_place: SafePlace | None
    safe_place_note: str | None
    instructions: str | None
    signature_required: bool
    in_home: bool


class SelfServiceView(BaseModel):
    """What this customer may change now, and the choices they have."""

    order_id: str
    status: OrderStatus
    timezone: str
    actions: Actions
    windows: list[WindowOffer] = Field(description="Feasible windows on the delivery day.")
    days: list[DayOffers] = Field(description="Feasible windows on other days.")
    pickup_points: list[PickupPointOffer] = Field(description="Nearby, nearest first.")
    safe_places: list[SafePlace]
    current: Choices
    allowances: Allowances

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field, model_validator

from lastmile.customers.schemas import AddressFields
from lastmile.kit.geo import Latitude, Longitude
from lastmile.orders.models import DeliveryMethod, ServiceLevel
from lastmile.slots.policy import SlotReason


class Point(BaseModel):
    lat: Latitude
    lon: Longitude


class ParcelSize(BaseModel):
    """The whole shipment: how many parcels, their total weight and volume."""

    count: int = Field(default=1, ge=1, le=50)
    weight_kg: float = Field(gt=0, le=5000, allow_inf_nan=False)
    volume_litres: float = Field(gt=0, le=50_000, allow_inf_nan=False)


class QuoteRequest(BaseModel):
    """Where and what to deliver; give ``location`` or an ``address`` to geocode."""

    location: Point | None = None
    address: AddressFields | None = None
    parcels: ParcelSize
    service_level: ServiceLevel = ServiceLevel.scheduled
    delivery_method: DeliveryMethod = Field(
        default=DeliveryMethod.doorstep, description="How it is handed over (service time)."
    )
    from_date: date | None = Field(default=None, description="First day wanted (local).")
    to_date: date | None = Field(default=None, description="Last day wanted (local).")

    @model_validator(mode="after")
    def _consistent(self) -> QuoteRequest:
        if (self.location is None) == (self.address is None):
            raise ValueError("give exactly one of location and address")
        if self.from_date and self.to_date and self.to_date < self.from_date:
            raise ValueError("to_date must not be before from_date")
        return self


class PriceHint(BaseModel):
    amount: Decimal
    currency: str


class SlotOfferRead(BaseModel):
    id: str = Field(description="Stable slot id; book it with POST /v1/orders/{id}/slot.")
    service_date: date
    starts_at: datetime
    ends_at: datetime
    area_id: str = Field(description="The depot whose area the address lies in.")
    feasible: bool
    reason: SlotReason | None = Field(description="Why it cannot be booked, when it cannot.")
    remaining: int
    capacity: int
    price_hint: PriceHint
    green: bool = Field(description="A vehicle passes nearby: little extra distance and CO2.")
    extra_km: float | None
    extra_co2_g: float | None
    booked: bool = Field(description="The order's current slot (order endpoints only).")


class SlotQuote(BaseModel):
    location: Point
    area_id: str
    offers: list[SlotOfferRead]


class BookSlot(BaseModel):
    slot_id: str = Field(min_length=1, max_length=100)


class SlotBookingRead(BaseModel):
    order_id: str
    slot: SlotOfferRead

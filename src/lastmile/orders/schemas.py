from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from lastmile.customers.schemas import AddressFields, AddressRead, CustomerCreate
from lastmile.kit.clock import Instant
from lastmile.orders.models import DeliveryMethod, SafePlace, ServiceLevel
from lastmile.orders.status import OrderStatus

Barcode = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{4,64}$", examples=["PT0012345678"])]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]
MAX_WINDOW = timedelta(hours=24)
PICKUP_METHODS = frozenset({DeliveryMethod.locker, DeliveryMethod.pickup_point})


class TimeWindow(BaseModel):
    """A delivery window; both ends need a UTC offset."""

    start: Instant
    end: Instant

    @field_validator("end")
    @classmethod
    def _ordered(cls, end: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError("end must be after start")
        if start is not None and end - start > MAX_WINDOW:
            raise ValueError("a window lasts at most 24 hours")
        return end


class ParcelIn(BaseModel):
    barcode: Barcode
    weight_kg: float = Field(gt=0, le=1000, allow_inf_nan=False)
    volume_litres: float | None = Field(default=None, gt=0, le=10_000, allow_inf_nan=False)
    length_cm: float | None = Field(default=None, gt=0, le=500, allow_inf_nan=False)
    width_cm: float | None = Field(default=None, gt=0, le=500, allow_inf_nan=False)
    height_cm: float | None = Field(default=None, gt=0, le=500, allow_inf_nan=False)

    @model_validator(mode="after")
    def _volume(self) -> ParcelIn:
        dims = (self.length_cm, self.width_cm, self.height_cm)
        if self.volume_litres is None:
            if any(d is None for d in dims):
                raise ValueError("give volume_litres or all of length_cm, width_cm, height_cm")
            length, width, height = (float(d or 0) for d in dims)
            self.volume_litres = round(length * width * height / 1000, 3)
        return self


class Money(BaseModel):
    amount: Decimal = Field(ge=0, le=Decimal("10000000"), decimal_places=2)
    currency: Currency


class OrderCreate(BaseModel):
    """A delivery order. Give the recipient inline (``customer``, ``address``) or by id."""

    merchant_reference: str | None = Field(default=None, min_length=1, max_length=100)
    merchant_id: str | None = Field(
        default=None, description="Staff only: the merchant the order is for."
    )
    customer: CustomerCreate | None = None
    customer_id: str | None = None
    address: AddressFields | None = None
    address_id: str | None = None
    service_level: ServiceLevel = ServiceLevel.next_day
    delivery_method: DeliveryMethod = DeliveryMethod.doorstep
    pickup_point_id: str | None = Field(
        default=None, description="Required for locker and pickup_point delivery."
    )
    windows: list[TimeWindow] = Field(
        default_factory=list, max_length=5, description="Acceptable windows, preferred first."
    )
    service_date: date | None = Field(
        default=None, description="Defaults to the first window's date, else by service level."
    )
    zone: str | None = Field(default=None, max_length=40)
    safe_place: SafePlace | None = None
    safe_place_note: str | None = Field(default=None, max_length=300)
    instructions: str | None = Field(default=None, max_length=1000)
    signature_required: bool = False
    age_check: bool = False
    declared_value: Money | None = None
    priority: int = Field(default=50, ge=0, le=100, description="Higher goes first when short.")
    release_at: Instant | None = Field(
        default=None, description="Same-day: when the goods are ready at the depot."
    )
    parcels: list[ParcelIn] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> OrderCreate:
        if (self.customer is None) == (self.customer_id is None):
            raise ValueError("give exactly one of customer and customer_id")
        if (self.address is None) == (self.address_id is None):
            raise ValueError("give exactly one of address and address_id")
        if (self.delivery_method in PICKUP_METHODS) != (self.pickup_point_id is not None):
            raise ValueError(
                "pickup_point_id is required for, and only for, locker and pickup_point"
            )
        if self.delivery_method is DeliveryMethod.safe_place and self.safe_place is None:
            raise ValueError("safe_place delivery needs a safe_place")
        if self.service_level is ServiceLevel.scheduled and not self.windows:
            raise ValueError("scheduled delivery needs at least one window")
        barcodes = [p.barcode for p in self.parcels]
        if len(set(barcodes)) != len(barcodes):
            raise ValueError("parcel barcodes must be unique")
        return self


class OrderUpdate(BaseModel):
    """Fields that may change after creation. Plan-affecting ones send a planned order back."""

    windows: list[TimeWindow] | None = Field(default=None, max_length=5)
    delivery_method: DeliveryMethod | None = None
    pickup_point_id: str | None = None
    safe_place: SafePlace | None = None
    safe_place_note: str | None = Field(default=None, max_length=300)
    instructions: str | None = Field(default=None, max_length=1000)
    signature_required: bool | None = None
    age_check: bool | None = None
    priority: int | None = Field(default=None, ge=0, le=100)
    zone: str | None = Field(default=None, max_length=40)

    @field_validator("windows", "delivery_method", "signature_required", "age_check", "priority")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Every order has these: leave them out to keep them, null cannot clear them.
        if value is None:
            raise ValueError("may be left out, but not null")
        return value


class TransitionRequest(BaseModel):
    status: OrderStatus
    reason: str | None = Field(default=None, max_length=500)


class ParcelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    barcode: str
    weight_kg: float
    volume_litres: float


class WindowRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    start: datetime = Field(validation_alias="starts_at")
    end: datetime = Field(validation_alias="ends_at")


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    merchant_id: str | None
    merchant_reference: str | None
    customer_id: str
    address: AddressRead
    status: OrderStatus
    service_level: ServiceLevel
    delivery_method: DeliveryMethod
    pickup_point_id: str | None
    service_date: date
    zone: str | None
    windows: list[WindowRead]
    safe_place: SafePlace | None
    safe_place_note: str | None
    instructions: str | None
    signature_required: bool
    age_check: bool
    declared_value: Money | None
    priority: int
    release_at: datetime | None
    driver_id: str | None
    vehicle_id: str | None
    route_id: str | None
    stop_id: str | None
    parcels: list[ParcelRead]
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _money(cls, data: Any) -> Any:
        # The row keeps amount and currency in two columns; the API shows one Money object.
        if isinstance(data, dict) or not hasattr(data, "currency"):
            return data
        fields = {name: getattr(data, name) for name in cls.model_fields}
        if data.declared_value is not None:
            fields["declared_value"] = {"amount": data.declared_value, "currency": data.currency}
        return fields


class OrderEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    at: datetime
    from_status: OrderStatus | None
    to_status: OrderStatus
    actor: str
    reason: str | None
    details: dict[str, Any]
